"""Masking the variable parts of messages so repeated errors group together."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evidence.logs.normalize import normalize_message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "upstream payments-db: connection pool exhausted",
            "upstream payments-db: connection pool exhausted",
        ),
        ("timeout after 3000ms calling 10.0.3.7:5432", "timeout after <*> calling <*>"),
        ("user alice@example.com not found", "user <*> not found"),
        (
            "GET https://api.shop.test/v1/orders?id=123&token=abc failed",
            "GET https://api.shop.test/v1/orders?<*> failed",
        ),
        ("request 550e8400-e29b-41d4-a716-446655440000 failed", "request <*> failed"),
        ("pod checkout-7d9f8b6c4-x2z9q OOMKilled", "pod checkout-<*> OOMKilled"),
        ("connect to [2001:db8::1]:5432 refused", "connect to <*> refused"),
        ("nil pointer at 0xc000123456", "nil pointer at <*>"),
        ("GET /api/orders/12345/items took 250ms", "GET /api/orders/<*>/items took <*>"),
        ("retries=3 limit=5", "retries=<*> limit=<*>"),
        ("job started at 2026-11-21T14:02:03Z", "job started at <*>"),
        ('relation "users" does not exist', 'relation "users" does not exist'),
        ("KeyError: 'user_id'", "KeyError: 'user_id'"),
        ("sha256 mismatch on db2 over http2", "sha256 mismatch on db2 over http2"),
    ],
)
def test_masks(message: str, expected: str) -> None:
    assert normalize_message(message) == expected


def test_same_error_with_different_ids_groups_together() -> None:
    a = normalize_message("order 9912 failed: card 4242 declined by 10.1.2.3")
    b = normalize_message("order 17 failed: card 1111 declined by 10.9.9.9")
    assert a == b


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="ab1 2.:-/\"'=@?<*>x0f_"),
        st.lists(
            st.sampled_from(
                [
                    "ERROR",
                    "10.0.0.1:80",
                    "3000ms",
                    "0xdead",
                    "'q'",
                    '"a b"',
                    "id=7",
                    "a1b2c3",
                    "::1",
                    " ",
                    "-",
                    "/",
                ]
            )
        ).map("".join),
    )
)
def test_idempotent_and_never_raises(message: str) -> None:
    once = normalize_message(message)
    assert normalize_message(once) == once
