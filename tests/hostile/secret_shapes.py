"""Secrets as people paste them, each with the exact value that must never come back out.

Every shape here is something a log, a config, a shell history or a connection string really
holds. The values are made up; several are long and random-looking on purpose (high
entropy), others short and plain (only their name or position says they are secrets).
"""

from __future__ import annotations

from typing import NamedTuple


class Shape(NamedTuple):
    line: str
    secret: str


SHAPES: list[Shape] = [
    Shape("DB_PASSWORD=Hunter2-prod", "Hunter2-prod"),
    Shape("PGPASSWORD=pg-Secret-9", "pg-Secret-9"),
    Shape("MYSQL_ROOT_PASSWORD=rootpw-4411", "rootpw-4411"),
    Shape("export AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDHqa0AbCdEf", "FwoGZXIvYXdzEBYaDHqa0AbCdEf"),
    Shape("SECRET_KEY_BASE=9f8e7d6c5b4a3f2e", "9f8e7d6c5b4a3f2e"),
    Shape("export GITHUB_TOKEN=gh-local-7788", "gh-local-7788"),
    Shape(
        "SLACK_SIGNING_SECRET=8f14e45fceea167a5a36dedd4bea2543", "8f14e45fceea167a5a36dedd4bea2543"
    ),
    Shape("client_secret: cl-sec-5566aa", "cl-sec-5566aa"),
    Shape('{"apiKey": "ak-998877-zz"}', "ak-998877-zz"),
    Shape("x-api-key: xk-443322-yy", "xk-443322-yy"),
    Shape("password = 'quoted pass phrase'", "quoted pass phrase"),
    Shape("redis://:redis-pw-1@cache:6379/0", "redis-pw-1"),
    Shape("postgres://app:pg-url-pw@db:5432/shop", "pg-url-pw"),
    Shape("mongodb+srv://svc:mongo-pw-77@cluster0.example.net/db", "mongo-pw-77"),
    Shape("amqp://guest:rabbit-pw-3@mq:5672/", "rabbit-pw-3"),
    Shape("jdbc:mysql://db/app?user=app&password=jdbc-pw-5", "jdbc-pw-5"),
    Shape("Server=db;Database=shop;User Id=sa;Password=ado-pw-6;", "ado-pw-6"),
    Shape("AccountKey=c3RvcmFnZS1hY2NvdW50LWtleQ==;", "c3RvcmFnZS1hY2NvdW50LWtleQ=="),
    Shape("mysql --user=root --password hunter-cli-1 shop", "hunter-cli-1"),
    Shape("curl --token=tok-cli-2 https://api.example.com", "tok-cli-2"),
    Shape("Authorization: Bearer eyA1b2c3d4e5f6g7h8i9", "eyA1b2c3d4e5f6g7h8i9"),
    Shape("Authorization: Token tkn-0a9b8c7d", "tkn-0a9b8c7d"),
    Shape("Authorization: Basic YWRtaW46c2VjcmV0cGFzcw==", "YWRtaW46c2VjcmV0cGFzcw=="),
    Shape("using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"),
    Shape(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    Shape(
        "token xoxb-1234567890-0987654321-AbCdEfGhIjKl", "xoxb-1234567890-0987654321-AbCdEfGhIjKl"
    ),
    Shape("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
    Shape("OPENAI_KEY sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12"),
    Shape("glpat-Zx12Cv34Bn56Mq78Wr90", "glpat-Zx12Cv34Bn56Mq78Wr90"),
    Shape("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    Shape("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    Shape(
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV",
    ),
    Shape(
        "hook https://hooks.slack.com/services/T000AAA/B000BBB/XXXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    Shape("vault token hvs.CAESIJ1b2C3d4E5f6G7h8I9j0K", "hvs.CAESIJ1b2C3d4E5f6G7h8I9j0K"),
]

# Lines that name secret-ish words but hold none: masking them would hide what people need.
NOT_SECRETS: list[str] = [
    "max_tokens=4096",
    "token_count=512",
    "passenger_id=12345",
    "bypass_cache=true",
    "secretName: db-credentials",
    "partition_key=orders",
    "invalid token provided for verification",
    "api_key_id=12345",
]
