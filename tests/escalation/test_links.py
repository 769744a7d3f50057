"""Acknowledge/close links: signed, single-purpose, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.escalation.links import LinkClaim, LinkError, link_url, sign, verify

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SECRET = b"s" * 32


def claim(action: str = "acknowledge", alert_id: int = 7) -> LinkClaim:
    return LinkClaim(action, alert_id, NOW + timedelta(hours=24))  # type: ignore[arg-type]


@given(
    action=st.sampled_from(["acknowledge", "close"]),
    alert_id=st.integers(1, 2**53),
    ttl_s=st.integers(1, 10**8),
)
def test_a_signed_link_carries_its_action_alert_and_expiry(
    action: str, alert_id: int, ttl_s: int
) -> None:
    original = LinkClaim(action, alert_id, NOW + timedelta(seconds=ttl_s))  # type: ignore[arg-type]
    token = sign(SECRET, original)
    assert token.isascii()
    assert not {"/", "+", "="} & set(token)
    assert verify(SECRET, token, NOW) == original


def test_an_expired_link_is_refused() -> None:
    token = sign(SECRET, claim())
    with pytest.raises(LinkError, match="expired"):
        verify(SECRET, token, NOW + timedelta(hours=24))


def test_a_link_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(LinkError, match="signature"):
        verify(b"another-secret-16+", sign(SECRET, claim()), NOW)


@pytest.mark.parametrize(
    "token", ["", "x", "...", "bm90aGluZw.AAAA", "YWNrbm93bGVkZ2U6Nzo.!!!!", "%%%.%%%"]
)
def test_garbage_is_refused_with_a_reason(token: str) -> None:
    with pytest.raises(LinkError):
        verify(SECRET, token, NOW)


def test_an_acknowledge_link_cannot_be_turned_into_a_close_or_another_alert() -> None:
    token = sign(SECRET, claim("acknowledge", 7))
    mac = token.split(".")[1]
    forged = sign(b"attacker-secret-16+", claim("close", 8)).split(".")[0]
    with pytest.raises(LinkError):
        verify(SECRET, f"{forged}.{mac}", NOW)
    assert verify(SECRET, token, NOW).action == "acknowledge"


def test_link_url_sits_on_the_public_base_url() -> None:
    assert (
        link_url("https://alerts.example.org/", "abc.def") == "https://alerts.example.org/l/abc.def"
    )
