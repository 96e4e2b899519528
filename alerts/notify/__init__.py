"""Delivery from the transactional outbox: signed webhooks, e-mail, Alertmanager push.

dispatcher = OutboxDispatcher(engine, DeliveryConfig.from_file(path), routing=routing)
await dispatcher.run(stop_event)
"""

from alerts.notify.alertmanager import AlertmanagerSender, postable_alert
from alerts.notify.config import (
    AlertmanagerTarget,
    DeliveryConfig,
    EmailTarget,
    ReceiverChannels,
    RetryPolicy,
    SmtpConfig,
    WebhookTarget,
)
from alerts.notify.dispatcher import OutboxDispatcher, Round, backoff, default_senders
from alerts.notify.email import EmailSender
from alerts.notify.metrics import DeliveryMetrics
from alerts.notify.notification import DeliveryFailed, Notification, Sender
from alerts.notify.outbox import requeue_dead
from alerts.notify.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    InvalidSignature,
    WebhookSender,
    sign,
    verify_signature,
    webhook_body,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "AlertmanagerSender",
    "AlertmanagerTarget",
    "DeliveryConfig",
    "DeliveryFailed",
    "DeliveryMetrics",
    "EmailSender",
    "EmailTarget",
    "InvalidSignature",
    "Notification",
    "OutboxDispatcher",
    "ReceiverChannels",
    "RetryPolicy",
    "Round",
    "Sender",
    "SmtpConfig",
    "WebhookSender",
    "WebhookTarget",
    "backoff",
    "default_senders",
    "postable_alert",
    "requeue_dead",
    "sign",
    "verify_signature",
    "webhook_body",
]
