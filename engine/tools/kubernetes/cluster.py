"""One Kubernetes source: its own API client, and every call read-only, off the event loop.

The official client is blocking, so each call runs in a thread with the source's time limit.
Each source gets its own `ApiClient` built from its kubeconfig (and context) or from the pod's
in-cluster account; the client's process-wide default configuration is never touched, so two
clusters never mix credentials. Answers are read as plain JSON (not the client's typed
models): a field the models do not know, or a timestamp a little off the standard, must not
turn a useful answer into an error. Every failure is said in words an SRE can act on: the
API cannot be reached, refused the credentials, forbids this account, has no such object.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.tools.base import ToolError
from engine.tools.sources import Source, SourcesError, pick_source

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
MAX_BODY_BYTES = 8 * 1024 * 1024  # a namespace of a few thousand pods as JSON
_SHOWN_MESSAGE_CHARS = 400

# Names as the API accepts them (RFC 1123), checked before anything is asked.
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
LABEL_SELECTOR_PATTERN = r"^[A-Za-z0-9_./=!,()\- ]{1,300}$"

# (api client, request timeout) → a urllib3 response (the call made with _preload_content=False)
ApiCall = Callable[[k8s.ApiClient, float], Any]


class KubernetesOptions(BaseModel):
    """`options` of a kubernetes source."""

    model_config = ConfigDict(extra="forbid")

    kubeconfig: str | None = None  # a path; ~ is expanded
    context: str | None = None  # a context of that kubeconfig; its current one when unset
    namespace: str | None = Field(default=None, pattern=NAMESPACE_PATTERN)
    in_cluster: bool = False  # use the pod's service account instead of a kubeconfig

    @model_validator(mode="after")
    def _one_way_in(self) -> KubernetesOptions:
        if self.in_cluster and (self.kubeconfig or self.context):
            raise ValueError("in_cluster: true takes no kubeconfig or context")
        if not self.in_cluster and not self.kubeconfig:
            raise ValueError("set kubeconfig (a path) or in_cluster: true")
        return self


def options_of(source: Source) -> KubernetesOptions:
    """The source's options, or a refusal naming the source and the option that is wrong."""
    try:
        return KubernetesOptions.model_validate(source.options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SourcesError(f"kubernetes source {source.name!r}, options: {problems}") from None


class Cluster:
    """A kubernetes source, with its API client made on first use (reading a kubeconfig may
    run an exec credential plugin: not at start, and not on the event loop)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.options = options_of(source)
        self._api: k8s.ApiClient | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.source.name

    def namespace(self, asked: str | None) -> str:
        """The namespace asked for, else the source's default, else the pod's own (in
        cluster), else `default`."""
        if asked:
            return asked
        if self.options.namespace:
            return self.options.namespace
        if self.options.in_cluster:
            try:
                return IN_CLUSTER_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
            except OSError:
                pass
        return "default"

    def kubectl(self, namespace: str, *args: str) -> str:
        """The kubectl command a person would run for the same answer."""
        argv = ["kubectl"]
        if self.options.context:
            argv += ["--context", self.options.context]
        argv += ["-n", namespace, *args]
        return shlex.join(argv)

    async def get_json(self, call: ApiCall, what: str) -> dict[str, Any]:
        """The API's JSON answer to `call`; `what` names the request in error messages."""
        body = await self.get_bytes(call, what)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ToolError(f"{self._where()} answered {what} with something not JSON") from exc
        if not isinstance(data, dict):
            raise ToolError(f"{self._where()} answered {what} with an unexpected shape")
        return data

    async def get_bytes(self, call: ApiCall, what: str) -> bytes:
        return await asyncio.to_thread(self._call, call, what)

    def _call(self, call: ApiCall, what: str) -> bytes:
        api = self._client()
        try:
            response = call(api, self.source.timeout_s)
            body = response.read(MAX_BODY_BYTES + 1)
            response.release_conn()
        except ApiException as exc:
            raise ToolError(self._refusal(exc, what)) from None
        except urllib3.exceptions.MaxRetryError as exc:
            raise ToolError(self._unreachable(exc.reason)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise ToolError(self._unreachable(exc)) from None
        if len(body) > MAX_BODY_BYTES:
            raise ToolError(
                f"{self._where()} answered {what} with more than "
                f"{MAX_BODY_BYTES // (1024 * 1024)} MB; narrow it (a label selector)"
            )
        return bytes(body)

    def _client(self) -> k8s.ApiClient:
        with self._lock:
            if self._api is None:
                self._api = self._new_client()
            return self._api

    def _new_client(self) -> k8s.ApiClient:
        configuration = k8s.Configuration()
        # One try: a retry of a refused or timed-out request only multiplies the wait.
        configuration.retries = 0
        try:
            if self.options.in_cluster:
                k8s_config.load_incluster_config(client_configuration=configuration)
                return k8s.ApiClient(configuration)
            path = Path(str(self.options.kubeconfig)).expanduser()
            if not path.is_file():
                raise ToolError(f"kubernetes source {self.name!r}: no kubeconfig at {path}")
            # persist_config=False: a refreshed token is never written back to the file.
            return k8s_config.new_client_from_config(
                config_file=str(path),
                context=self.options.context,
                persist_config=False,
                client_configuration=configuration,
            )
        except ToolError:
            raise
        except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
            how = "in-cluster account" if self.options.in_cluster else "kubeconfig"
            raise ToolError(
                f"kubernetes source {self.name!r}: cannot use its {how}: {exc}"
            ) from None

    def _where(self) -> str:
        host = self._api.configuration.host if self._api is not None else "?"
        return f"the Kubernetes API of {self.name} ({host})"

    def _unreachable(self, reason: object) -> str:
        # Checked before timeouts: urllib3 makes a refused connection a kind of timeout.
        if isinstance(reason, urllib3.exceptions.NameResolutionError):
            return f"cannot reach {self._where()}: cannot resolve the host name"
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            said = re.sub(r"^\[Errno -?\d+\]\s*", "", str(reason).rsplit(": ", 1)[-1])
            return f"cannot reach {self._where()}: {said.lower() or 'connection failed'}"
        if isinstance(reason, urllib3.exceptions.SSLError):
            return f"{self._where()}: TLS failed ({_short(str(reason))})"
        if isinstance(reason, urllib3.exceptions.TimeoutError):
            return f"{self._where()} did not answer within {self.source.timeout_s:g} s"
        return f"cannot reach {self._where()}: {_short(str(reason))}"

    def _refusal(self, exc: ApiException, what: str) -> str:
        status = int(exc.status or 0)
        said = _status_message(exc.body)
        where = self._where()
        if status == 401:
            return f"{where} did not accept the credentials of source {self.name!r} (401)"
        if status == 403:
            return (
                f"{where} forbids this account {what} (403): {said or 'forbidden'}; "
                "the source's account needs get/list on it"
            )
        if status == 404:
            return f"{what}: not found (404){': ' + said if said else ''}"
        return f"{where} refused {what} ({status} {exc.reason or ''}){': ' + said if said else ''}"


class Clusters:
    """The kubernetes sources allowed here, by name."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self._by_name = {source.name: Cluster(source) for source in sources}

    def pick(self, name: str | None) -> Cluster:
        return self._by_name[pick_source(self.sources, name, "kubernetes").name]


def _status_message(body: object) -> str | None:
    """The message of a Kubernetes `Status` answer (or the body's text)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body.strip():
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return _short(body.strip())
    if isinstance(data, dict) and data.get("message"):
        return _short(str(data["message"]))
    return _short(body.strip())


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN_MESSAGE_CHARS else text[:_SHOWN_MESSAGE_CHARS] + " …"
