"""Scoped admin: notifications (read-only), and the outbox where failed messages are visible.

Addresses are never shown in the admin: the outbox lists and shows the masked `to` only."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from changxin.core.admin_scope import DistrictAdminOnly, ScopedAdmin, WrittenByServices, is_district_admin
from changxin.notifications import services
from changxin.notifications.models import MessageState, Notification, OutboundMessage


@admin.register(Notification)
class NotificationAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("title", "recipient", "kind", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "demand__number")
    list_select_related = ("recipient",)
    fields = (
        "recipient",
        "kind",
        "demand",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
        "event_id",
        "key",
    )
    readonly_fields = fields


@admin.register(OutboundMessage)
class OutboundMessageAdmin(WrittenByServices, DistrictAdminOnly):
    list_display = (
        "created_at",
        "channel",
        "masked_to",
        "kind",
        "demand",
        "state",
        "attempts",
        "last_error_short",
    )
    list_filter = ("state", "kind", "channel")
    search_fields = ("demand__number",)
    list_select_related = ("demand",)
    fields = (
        "channel", "masked_to", "kind", "demand", "subject", "body", "state", "attempts",
        "last_error", "created_at", "next_attempt_at", "sent_at", "event_id",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["send_again"]
    # The address is never shown; the text (which may carry the requester's tracking code) only to
    # the centre's administrators, not to read-only leadership.
    personal_fields = {"to": "masked_to", "subject": None, "body": None}

    def may_see_personal(self, request, field: str) -> bool:
        return field != "to" and is_district_admin(request.user)

    @admin.display(description=_("to"))
    def masked_to(self, obj):
        return obj.masked_to

    @admin.display(description=_("last error"))
    def last_error_short(self, obj):
        return obj.last_error[:80]

    @admin.action(description=_("Send the failed messages again"))
    def send_again(self, request, queryset):
        if not is_district_admin(request.user):
            return
        failed = list(queryset.filter(state=MessageState.FAILED))
        for message in failed:
            services.retry(message)
        self.message_user(
            request,
            ngettext("%(n)d message queued again.", "%(n)d messages queued again.", len(failed))
            % {"n": len(failed)},
            messages.SUCCESS,
        )
