"""E-mail over SMTP (smtplib in a worker thread), the message in Chinese and English.

STARTTLS and login are used when configured. The ``Message-ID`` is derived from the
notification's idempotency key, so a retried message carries the same id and mail systems
that deduplicate by it show it once.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from alerts.notify.config import EmailTarget, SmtpConfig, Target
from alerts.notify.notification import DeliveryFailed, Notification
from alerts.notify.templates import body, subject

log = logging.getLogger(__name__)


def build_message(notification: Notification, target: EmailTarget, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(target.to)
    message["Subject"] = subject(notification)
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2] or "fenghuo"
    message["Message-ID"] = f"<{notification.key}@{domain}>"
    message["Fenghuo-Idempotency-Key"] = notification.key
    message.set_content(body(notification), charset="utf-8")
    return message


class EmailSender:
    """Sends each notification as one message through the configured SMTP server."""

    def __init__(self, smtp: SmtpConfig) -> None:
        self.smtp = smtp

    async def send(self, notification: Notification, target: Target) -> None:
        assert isinstance(target, EmailTarget)
        message = build_message(notification, target, self.smtp.sender)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        smtp = self.smtp
        where = f"smtp {smtp.host}:{smtp.port}"
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username and smtp.password is not None:
                    client.login(smtp.username, smtp.password.get_secret_value())
                refused = client.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise DeliveryFailed(f"{where}: refused: {exc}", permanent=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"{where}: login refused ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryFailed(
                f"{where}: {exc.smtp_code} {exc.smtp_error!r}", permanent=permanent
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
        if refused:
            log.warning("%s refused some recipients: %s", where, sorted(refused))
