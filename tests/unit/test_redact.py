"""Redaction: secrets never survive into derived text; placeholders are stable; ids stay."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.redact import Redactor, describe_counts
from tests.hostile.secret_shapes import NOT_SECRETS, SHAPES, Shape

redactor = Redactor()

SECRETS = {
    "slack bot token": ("token", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"),
    "slack app token": ("token", "xapp-1-A0FAKE-1234567890-abcdef0123456789"),
    "github token": ("token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    "aws access key": ("AWS key", "AKIAIOSFODNN7EXAMPLE"),
    "gcp api key": ("token", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    "jwt": (
        "JWT",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "email": ("email", "alice.smith@example.com"),
    "generic key": ("key", "Zx9Kq2LmP4vB7nR1tY6wS3dF8gH5jK0aQwE"),
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_known_secret_shapes_are_masked(name: str) -> None:
    kind, secret = SECRETS[name]
    out = redactor.redact(f"2026-11-21 14:00:00 ERROR call failed with {secret} attached")
    assert secret not in out.text
    assert out.counts == {kind: 1}
    assert f"[{kind}:" in out.text


@pytest.mark.parametrize(
    ("line", "secret", "kind"),
    [
        ("db=postgres://app:hunter2pass@db:5432/orders", "hunter2pass", "password"),
        ("login password=s3cr3t! ok", "s3cr3t!", "password"),
        ('{"password": "p@ss w0rd", "user": "bob"}', "p@ss w0rd", "password"),
        ("client_secret: abcdEFGH1234", "abcdEFGH1234", "secret"),
        ("Authorization: Bearer abc.def.ghi-jkl_mno", "abc.def.ghi-jkl_mno", "token"),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
            "secret",
        ),
    ],
)
def test_credentials_in_key_values_and_urls_are_masked(line: str, secret: str, kind: str) -> None:
    out = redactor.redact(line)
    assert secret not in out.text and out.counts[kind] == 1


def test_private_key_block_keeps_the_line_count() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----"
    text = f"before\n{block}\nafter"
    out = redactor.redact(text)
    assert "MIIEow" not in out.text and out.counts == {"private key": 1}
    assert out.text.count("\n") == text.count("\n")
    assert out.text.splitlines()[-1] == "after"


def test_ids_people_need_are_kept() -> None:
    line = (
        "Failed password for invalid user admin from 10.0.0.1 port 22 "
        "trace=4bf92f3577b34da6a3ce929d0e0e4736 blk_-1608999687919862906 "
        "id 123e4567-e89b-12d3-a456-426614174000 com.acme.checkout.PaymentServiceImplementation"
    )
    out = redactor.redact(line)
    assert out.text == line and not out.counts


def test_ips_are_masked_only_when_asked() -> None:
    assert "10.1.2.3" in redactor.redact("from 10.1.2.3").text
    out = Redactor(mask_ips=True).redact("from 10.1.2.3 to 10.1.2.3")
    assert "10.1.2.3" not in out.text and out.counts == {"IP": 2}


def test_placeholders_are_stable_and_distinct() -> None:
    a = redactor.redact("token=AAAAbbbb1111 and again token=AAAAbbbb1111").text
    b = redactor.redact("token=CCCCdddd2222").text
    first, second = a.split(" and again ")
    assert first == second  # same secret, same placeholder
    assert first != b


def test_describe_counts_reads_like_english() -> None:
    assert describe_counts({"token": 3, "password": 1}) == "masked 3 tokens, 1 password"
    assert describe_counts({}) == ""


secret_alphabet = string.ascii_letters + string.digits
filler = st.text(alphabet=string.ascii_letters + " .,:;-_()[]{}\"'=/", max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    before=filler, after=filler, value=st.text(alphabet=secret_alphabet, min_size=8, max_size=40)
)
def test_a_password_assignment_never_survives(before: str, after: str, value: str) -> None:
    out = redactor.redact(f"{before} password={value} {after}")
    assert f"password={value}" not in out.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once = redactor.redact(text).text
    twice = redactor.redact(once)
    assert twice.text == once and not twice.counts


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.line[:40])
def test_every_secret_shape_is_masked(shape: Shape) -> None:
    redacted = Redactor().redact(shape.line)
    assert shape.secret not in redacted.text, redacted.text
    assert redacted.counts, redacted.text


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_settings_that_only_mention_secrets_stay_readable(line: str) -> None:
    assert Redactor().redact(line).text == line


# What real logs, span tables and kubectl output hold that is no secret, each as seen there
# (tests/bench/bench_redaction.py measures the rest): masking any of these loses it from
# every answer. The operation below was once masked as `[key:d90616]`.
NOT_SECRET_LINES = {
    "API path as a span operation": "/api/v1/catalogservice/items/byCategoryIdsAndRegions",
    "API path with its method": "{GET}/api/v1/routeplanservice/routePlan/quickestRoute,Entry",
    "API path in a URL": "I/O error on GET request for "
    '"http://ts-ticketinfo-service:15681/api/v1/ticketinfoservice/ticketinfo/Shang%20Hai"',
    "file path": "ciod: failed to read /home/spelce1/HPCC_IBM/Urgent/COP/64K/RandomAccess",
    "Java class": "nested exception is org.springframework.web.client.ResourceAccessException",
    "Java class as a path": "at org/slf4j/impl/Log4jLoggerAdapter.info(Log4jLogger.java:304)",
    "Python function": "in engine.evidence.traces.analyze._redact_operations line 126",
    "CamelCase operation": "operation findByPrincipalAndAfterAndTypeUsingGET_1 took 1200 ms",
    "client name": "DFSClient_NONMAPREDUCE_1537864556_1 closed the lease",
    "SkyWalking span id": "121f3fe08fca4050ada25791f255b1cc.42.16283348922050076.0,-1,SpringMVC",
    "hex span id": "span_id=00f067aa0ba902b7 parent=-1",
    "W3C traceparent": "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "UUID request id": '{"request_id": "123e4567-e89b-12d3-a456-426614174000", "status": 500}',
    "git commit": "deployed commit 9fceb02d0ae598e95dc970b74767f19372d61af8 at 14:02",
    "image digest": "Image ID: docker.io/library/nginx@sha256:"
    + "0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
    "pod name": "Normal  Created  Pod/payment-processor-598445cb54-6tmvg  created",
    "object reference": "involvedObject: Event/my-server-deployment-79f4ff4d45-g4xvs",
    "boolean setting": "  automountServiceAccountToken: true",
    "prose": "This repository is the basic implementation of our publication",
}


@pytest.mark.parametrize("name", sorted(NOT_SECRET_LINES))
def test_paths_names_and_ids_are_not_secrets(name: str) -> None:
    line = NOT_SECRET_LINES[name]
    out = redactor.redact(line)
    assert out.text == line and not out.counts, out.text


@pytest.mark.parametrize(
    ("line", "secret", "kind"),
    [
        # A UUID is an id in its own field, a secret under a secret's name.
        (
            "Using default security password: a4e3a45d-a8b5-42e0-8ad7-f646307a9bed",
            "a4e3a45d-a8b5-42e0-8ad7-f646307a9bed",
            "password",
        ),
        ("session_token=123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b", "secret"),
        # Random keys whose alphabet holds / + - _ still read as one random run.
        ("got wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY back", "K7MDENG", "key"),
        ("got kt0JFR_Qyu5Gnv_tckqR8k-sy-K08nU8 back", "Qyu5Gnv", "key"),
        ("signed /files/eGw3x/NadfMYQmMS8jEkY+CnbrftP+Nfv2/VMw64", "NadfMYQ", "key"),
        ("sent with bearer eyA1b2c3d4e5f6g7h8i9 in the header", "eyA1b2c3d4e5f6g7h8i9", "token"),
        ("password: truefalse-9", "truefalse-9", "password"),
    ],
)
def test_secrets_shaped_like_ids_or_paths_stay_masked(line: str, secret: str, kind: str) -> None:
    out = redactor.redact(line)
    assert secret not in out.text and out.counts[kind] == 1, out.text


def test_random_keys_are_still_masked_when_paths_are_not() -> None:
    """Recall of the generic key rule on random keys of every common alphabet (seeded)."""
    rng = random.Random(7)
    alphabets = [
        string.ascii_letters + string.digits,  # base62
        string.ascii_letters + string.digits + "+/",  # base64
        string.ascii_letters + string.digits + "-_",  # URL-safe
    ]
    keys = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(32, 64)))
        for alphabet in alphabets
        for _ in range(300)
    ]
    masked = sum(key not in redactor.redact(f"value {key} end").text for key in keys)
    # A few random strings lack a digit or a case, or have low entropy: those were never
    # taken as keys. Measured: 899 of these 900, as before names and paths were let through.
    assert masked >= 0.99 * len(keys), masked


class _EveryRule(Redactor):
    """The redactor running all its rules on every text, as it did before each text ran only
    the rules whose literals it holds."""

    def _rules_for(self, text: str) -> tuple[int, ...]:
        return tuple(range(len(self._parts)))


def _mixed_lines() -> list[str]:
    secrets = [value for _, value in SECRETS.values()] + [s.line for s in SHAPES]
    shaped = [s for s in NOT_SECRETS] + [
        "GET /api/v1/catalogservice/items/byCategoryIdsAndRegions 200",
        "user bob@example.com logged in with token=abc123def456 and key_id=12",
        "Authorization: Bearer " + "Zx9Kq2LmP4vB7nR1tY6wS3dF8gH5jK0aQwE",
        "postgres://app:s3cretPassw0rd@db:5432/shop failed; retry with --password hunter22",
    ]
    rnd = random.Random(7)
    glued = [" ".join(rnd.sample(secrets + shaped, 3)) for _ in range(200)]
    return secrets + shaped + glued


def test_running_only_the_rules_a_text_can_match_changes_nothing() -> None:
    every = _EveryRule()
    for line in _mixed_lines():
        assert redactor.redact(line) == every.redact(line), line


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable, max_size=200))
def test_rule_selection_matches_every_rule_on_any_text(text: str) -> None:
    assert redactor.redact(text) == _EveryRule().redact(text)


def test_texts_that_differ_in_their_digits_are_each_masked_as_on_their_own() -> None:
    """The rules a text needs are remembered by its shape (digits as "0"): a line whose
    digits alone differ from one read before still has its own secrets masked."""
    every, rnd = _EveryRule(), random.Random(11)
    lines = _mixed_lines()
    shared = Redactor()
    for line in lines + lines:
        variant = "".join(rnd.choice(string.digits) if c.isdigit() else c for c in line)
        for text in (line, variant):
            assert shared.redact(text) == every.redact(text), text


def test_a_yaml_key_opening_a_block_masks_nothing_on_the_next_line() -> None:
    """`secret:` (a volume from a Secret) opens a mapping: its next line is no value of it,
    and masking it would break the YAML for every reader after the redactor."""
    text = "volumes:\n- name: certs\n  secret:\n    defaultMode: 420\n    secretName: tls-certs\n"
    assert redactor.redact(text).text == text
    assert "hunter22" not in redactor.redact("password:   hunter22\n").text
