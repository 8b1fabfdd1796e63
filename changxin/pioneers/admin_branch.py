"""Scoped admin of branch life, dues, transfers and volunteering: read in the admin, written by the
services (branch_life, dues, transfers, volunteering). The dues base's income is personal data:
never shown, filtered or searched in the admin (the dues page shows it to the branch's keepers).
Nor are the amounts derived from it (the monthly dues, its rate, a payment): the admin names the
member, and the dues over the rate is the income; the dues page masks names for readers instead."""

from django.contrib import admin

from changxin.core.admin_scope import ScopedAdmin, WrittenByServices
from changxin.pioneers.models import (
    DuesBase,
    DuesPayment,
    Meeting,
    Transfer,
    TransferEvent,
    VolunteerActivity,
    VolunteerEvent,
    VolunteerSignup,
)


@admin.register(Meeting)
class MeetingAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("held_on", "organisation", "kind", "topic", "recorded_by")
    list_filter = ("kind",)
    list_select_related = ("organisation", "recorded_by")
    date_hierarchy = "held_on"


@admin.register(DuesBase)
class DuesBaseAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("member", "year", "category", "set_by")
    list_filter = ("year", "category")
    list_select_related = ("member", "set_by")
    personal_fields = {"monthly_income": None, "monthly_due": None, "rate": None}


@admin.register(DuesPayment)
class DuesPaymentAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("member", "month", "paid_on", "recorded_by")
    list_select_related = ("member", "recorded_by")
    personal_fields = {"amount": None}


@admin.register(Transfer)
class TransferAdmin(WrittenByServices, ScopedAdmin):
    list_display = (
        "member",
        "from_organisation",
        "to_organisation",
        "state",
        "letter_number",
        "requested_on",
    )
    list_filter = ("state",)
    list_select_related = ("member", "from_organisation", "to_organisation")


@admin.register(TransferEvent)
class TransferEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "transfer", "action", "from_state", "to_state", "actor_name")
    list_select_related = ("transfer",)


@admin.register(VolunteerActivity)
class VolunteerActivityAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("title", "organisation", "state", "starts_at", "capacity", "hours")
    list_filter = ("state",)
    list_select_related = ("organisation",)


@admin.register(VolunteerSignup)
class VolunteerSignupAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("activity", "member", "signed_up_at", "checked_in_at")
    list_select_related = ("activity", "member")


@admin.register(VolunteerEvent)
class VolunteerEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "activity", "member", "action", "actor_name")
    list_select_related = ("activity", "member")
