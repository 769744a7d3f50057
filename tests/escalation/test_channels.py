"""Channels against real local receivers: SMTP (aiosmtpd), Apprise json:// form:// smseagle://."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from server.notify.apprise_channel import AppriseChannel
from server.notify.base import DeliveryError, Page
from server.notify.contacts import Contact, contacts_of, fallback, kind_of, select
from server.notify.email import EmailChannel, SmtpSettings
from tests.escalation.receivers import http_receiver, smtp_server
from tests.support.procs import free_port

PAGE = Page(
    alert_id=12,
    title="front-desk pressed",
    description="Front desk",
    ack_url="http://127.0.0.1:8380/l/ack-token",
    close_url="http://127.0.0.1:8380/l/close-token",
)


async def test_email_reaches_the_smtp_server_with_both_links() -> None:
    with smtp_server() as (box, port):
        channel = EmailChannel(SmtpSettings(port=port, from_addr="alerts@example.org"))
        await channel.send("alice@example.org", PAGE)
        [msg] = box.to("alice@example.org")
    assert msg["From"] == "alerts@example.org"
    assert "front-desk pressed" in msg["Subject"]
    body = msg.get_content()
    assert "Acknowledge: http://127.0.0.1:8380/l/ack-token" in body
    assert "Close: http://127.0.0.1:8380/l/close-token" in body


async def test_a_refused_recipient_is_a_permanent_failure() -> None:
    with smtp_server() as (box, port):
        box.refuse.add("gone@example.org")
        with pytest.raises(DeliveryError) as info:
            await EmailChannel(SmtpSettings(port=port)).send("gone@example.org", PAGE)
    assert info.value.permanent
    assert "550" in info.value.reason


async def test_an_unreachable_smtp_server_is_worth_retrying() -> None:
    with pytest.raises(DeliveryError) as info:
        await EmailChannel(SmtpSettings(port=free_port(), timeout_s=2)).send("a@b.c", PAGE)
    assert not info.value.permanent
    assert "unreachable" in info.value.reason


async def test_apprise_json_url_posts_the_page_to_a_local_receiver() -> None:
    with http_receiver() as (inbox, port):
        await AppriseChannel().send(f"json://127.0.0.1:{port}/hooks/page", PAGE)
        [request] = inbox.on("/hooks/page")
    payload = json.loads(request.body)
    assert "front-desk pressed" in payload["title"]
    assert PAGE.ack_url in payload["message"]


async def test_apprise_form_url_posts_form_fields() -> None:
    with http_receiver() as (inbox, port):
        await AppriseChannel().send(f"form://127.0.0.1:{port}/form", PAGE)
        [request] = inbox.on("/form")
    fields = parse_qs(request.body.decode())
    assert PAGE.close_url in fields["message"][0]


async def test_sms_through_smseagle_reaches_a_local_gateway() -> None:
    """SMSEagle is an on-premises SMS gateway, so its host is ours to choose: a local fake here."""
    with http_receiver() as (inbox, port):
        inbox.reply = b'{"result": {"message_id": 1, "status": "ok"}}'
        url = f"smseagle://sekret-token@127.0.0.1:{port}/+15551234567"
        assert kind_of(url) == "sms"
        await AppriseChannel().send(url, PAGE)
        [request] = inbox.on("/jsonrpc/sms")
    rpc = json.loads(request.body)
    assert rpc["method"] == "sms.send_sms"
    assert rpc["params"]["to"] == "+15551234567"
    assert rpc["params"]["access_token"] == "sekret-token"
    assert PAGE.ack_url in rpc["params"]["message"]


async def test_a_gateway_error_is_a_failure_with_a_reason() -> None:
    with http_receiver() as (inbox, port):
        inbox.status = 500
        with pytest.raises(DeliveryError) as info:
            await AppriseChannel().send(f"json://127.0.0.1:{port}/", PAGE)
    assert not info.value.permanent
    assert info.value.reason


async def test_a_url_apprise_does_not_know_is_a_permanent_failure() -> None:
    with pytest.raises(DeliveryError) as info:
        await AppriseChannel().send("nosuchscheme://whatever", PAGE)
    assert info.value.permanent


def test_contacts_keep_order_and_via_picks_kinds() -> None:
    contacts = contacts_of(
        "a@example.org",
        (
            ("ntfy://alerts", None),
            ("twilio://sid:tok@+15550001/+15550002", None),
            ("json://x", "voice"),
        ),
    )
    assert [c.kind for c in contacts] == ["email", "push", "sms", "voice"]
    assert select(contacts, ("sms", "voice")) == contacts[2:]
    assert select(contacts, None) == contacts
    assert contacts[0] == Contact("email", "email", "a@example.org")
    assert fallback(contacts, frozenset({2}), 2) == 3
    assert fallback(contacts, frozenset({2, 3}), 3) == 0
    assert fallback(contacts[:1], frozenset({0}), 0) is None
