"""Message backends: how a queued OutboundMessage leaves the platform.

A backend is a class with one method, `send(message) -> None`, that raises on failure (the job
then records the error and retries with backoff). Choose one with the setting
CHANGXIN_MESSAGE_BACKEND (a dotted path). A real SMS gateway is one more class here:

    class GatewaySMSBackend(MessageBackend):
        def send(self, message):
            if message.channel != "sms":
                raise UnsupportedChannel(message.channel)
            response = requests.post(GATEWAY_URL, json={"to": message.to, "text": message.body}, timeout=10)
            response.raise_for_status()
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("changxin.notifications.outbox")


class UnsupportedChannel(Exception):
    pass


class MessageBackend:
    def send(self, message) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class OutboxBackend(MessageBackend):
    """The default: no gateway here. The OutboundMessage row is the outbox (the admin lists it);
    sending logs one line with the address masked."""

    def send(self, message) -> None:
        log.info(
            "outbox: %s %s to %s (demand %s)",
            message.channel,
            message.kind,
            message.masked_to,
            message.demand_id,
        )


class LogBackend(MessageBackend):
    """For development: logs the whole text (address masked) at INFO."""

    def send(self, message) -> None:
        log.info("%s to %s: %s", message.channel, message.masked_to, message.body)


def get_backend() -> MessageBackend:
    return import_string(settings.CHANGXIN_MESSAGE_BACKEND)()
