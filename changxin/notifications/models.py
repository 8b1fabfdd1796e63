"""Notifications: the staff inbox, and the outbox of messages to requesters (SMS / e-mail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changxin.core.privacy import mask_email, mask_phone
from changxin.core.scope import ScopedQuerySet


class NotificationKind(models.TextChoices):
    """The kinds this app writes. `Notification.kind` is an open vocabulary: other apps add theirs
    (e.g. "port.project_due") without a migration here."""

    DISPATCHED = "dispatched", _("Dispatched to my unit")
    ASSIGNED = "assigned", _("Assigned to me")
    CALLED_IN = "called_in", _("Called in by a whistle")
    DISPUTE_UPHELD = "dispute_upheld", _("Dispute upheld")
    DISPUTE_REJECTED = "dispute_rejected", _("Dispute rejected")
    SUPERVISED = "supervised", _("Supervised (督办)")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_DENIED = "extension_denied", _("Extension denied")
    NEARLY_OVERDUE = "nearly_overdue", _("Nearly overdue")
    OVERDUE = "overdue", _("Overdue")


class Notification(models.Model):
    """One message in one staff member's inbox. Idempotent: at most one per (recipient, kind, event)
    and per (recipient, kind, demand, key) — `key` names what a non-event notification is about
    (the deadline: "finish:2026-11-30T17:00:00+08:00")."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    demand = models.ForeignKey(
        "demands.Demand",
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    params = models.JSONField(_("text parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    event_id = models.BigIntegerField(_("timeline event id"), null=True, blank=True)
    key = models.CharField(_("key"), max_length=100, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        owner_fields = ("recipient",)  # everyone sees their own; district roles see all (admin)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "event_id"],
                condition=Q(event_id__isnull=False),
                name="notification_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "demand", "key"],
                condition=~Q(key=""),
                name="notification_once_per_key",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        try:
            return NotificationKind(self.kind).label
        except ValueError:
            return self.kind


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class MessageKind(models.TextChoices):
    """Kinds this app sends; an open vocabulary like the notification kinds."""

    ACCEPTED = "accepted", _("Demand accepted")
    REPLIED = "replied", _("Demand replied")


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundMessage(models.Model):
    """One SMS or e-mail to a requester. Written queued by a subscriber, sent by a job through the
    configured backend (CHANGXIN_MESSAGE_BACKEND), retried with backoff, failed after
    CHANGXIN_MESSAGE_MAX_ATTEMPTS. `to` holds the real address (needed to send); every display
    masks it (`masked_to`)."""

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    demand = models.ForeignKey(
        "demands.Demand",
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    state = models.CharField(
        _("state"), max_length=8, choices=MessageState.choices, default=MessageState.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    event_id = models.BigIntegerField(_("timeline event id"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Scope:
        unit_fields = ()  # district roles only (the admin is for district administrators)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "kind", "channel"],
                condition=Q(event_id__isnull=False),
                name="outbound_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.masked_to} · {self.kind_label}"

    @property
    def kind_label(self) -> str:
        try:
            return MessageKind(self.kind).label
        except ValueError:
            return self.kind

    @property
    def masked_to(self) -> str:
        return mask_email(self.to) if self.channel == Channel.EMAIL else mask_phone(self.to)
