"""Email through SMTP, with smtplib on a worker thread."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from server.notify.base import DeliveryError, Page


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to hand mail over."""

    host: str = "127.0.0.1"
    port: int = 25
    from_addr: str = "alert-server@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout_s: float = 15.0


class EmailChannel:
    """Sends each page as a plain-text email carrying the acknowledge and close links."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def reconfigure(self, settings: SmtpSettings) -> None:
        """Use new `[smtp]` settings for the pages sent from now on."""
        self._settings = settings

    def message(self, address: str, page: Page) -> EmailMessage:
        """The email for `page`."""
        msg = EmailMessage()
        msg["From"] = self._settings.from_addr
        msg["To"] = address
        msg["Subject"] = page.subject()
        msg["Message-ID"] = make_msgid(domain="flic-edge")
        msg["X-Flic-Edge-Alert"] = str(page.alert_id)
        msg.set_content(page.text())
        return msg

    async def send(self, address: str, page: Page) -> None:
        """Deliver or raise DeliveryError (permanent when the server refuses the recipient)."""
        await asyncio.to_thread(self._send_sync, self.message(address, page))

    def _send_sync(self, msg: EmailMessage) -> None:
        s = self._settings
        try:
            smtp: smtplib.SMTP
            if s.ssl:
                smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"SMTP refused the recipient ({', '.join(map(str, codes))})",
                permanent=all(500 <= code < 600 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}",
                permanent=500 <= exc.smtp_code < 600,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port} unreachable: {exc}") from exc
