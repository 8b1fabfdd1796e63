"""Scoped admin of the party wing. Rules are configured here by district administrators; the ledger,
the pipeline and their timelines are written by the services only. Personal data (ID number, phone)
is never shown in the admin: the member pages unmask it on request, audited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changxin.core.admin_scope import ScopedAdmin, WrittenByServices
from changxin.pioneers.models import (
    DevelopmentCase,
    PartyMember,
    PartyOrganisation,
    PipelineEvent,
    PointAdjustment,
    PointEntry,
    PointRule,
    PointTotal,
)


@admin.register(PartyOrganisation)
class PartyOrganisationAdmin(ScopedAdmin):
    list_display = ("name", "kind", "field", "unit", "parent", "is_active")
    list_filter = ("kind", "field", "is_active")
    search_fields = ("name", "unit__name")
    list_select_related = ("unit", "parent")
    raw_id_fields = ("unit", "parent")
    readonly_fields = ("path", "depth")


@admin.register(PartyMember)
class PartyMemberAdmin(ScopedAdmin):
    list_display = ("name", "organisation", "status", "posts", "is_secretary", "user")
    list_filter = ("status", "is_secretary")
    search_fields = ("name", "organisation__name")
    list_select_related = ("organisation", "user")
    raw_id_fields = ("organisation", "user")
    filter_horizontal = ("areas",)
    # never shown unmasked in the admin, and no lookup or search may touch them (PersonalDataAdmin);
    # unmasking is the audited action on the member page. The birth date is exactly the eight digits
    # the masked ID number hides (110106********0031), so it is never shown or filtered on either.
    personal_fields = {"id_number": "id_masked", "phone": "phone_masked", "birth_date": None}

    @admin.display(description=_("ID number"))
    def id_masked(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("phone"))
    def phone_masked(self, obj):
        return obj.masked_phone


@admin.register(PointRule)
class PointRuleAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "stream", "action", "match", "points", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(DevelopmentCase)
class DevelopmentCaseAdmin(WrittenByServices, ScopedAdmin):
    list_display = (
        "name",
        "organisation",
        "stage",
        "applied_on",
        "activist_on",
        "target_on",
        "probation_ends_on",
    )
    list_filter = ("stage",)
    list_select_related = ("organisation",)
    # a candidate's ID number and birth date (the number's middle digits): never shown, filtered or searched
    personal_fields = {"id_number": None, "birth_date": None}


@admin.register(PipelineEvent)
class PipelineEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "case", "action", "from_stage", "to_stage", "actor_name")
    list_select_related = ("case",)


@admin.register(PointEntry)
class PointEntryAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "member", "kind", "points", "rule", "source_stream", "source_event_id", "demand")
    list_filter = ("kind", "source_stream", "year")
    list_select_related = ("member", "rule", "demand")


@admin.register(PointTotal)
class PointTotalAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("member", "year", "total", "entries", "updated_at")
    list_select_related = ("member",)


@admin.register(PointAdjustment)
class PointAdjustmentAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("member", "kind", "points", "reason", "state", "requested_by", "decided_by")
    list_select_related = ("member", "requested_by", "decided_by")


from changxin.pioneers import admin_branch  # noqa: E402,F401 — branch life, dues, transfers, volunteering

# 先锋岗, 先锋者荣, 先锋者说: written by the services (posts.py, honours.py) with their audit rows
from changxin.pioneers.models import Honour, SharingSession, VanguardPost  # noqa: E402


@admin.register(VanguardPost)
class VanguardPostAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("name", "organisation", "place", "window", "starts_on", "ends_on")
    list_select_related = ("organisation", "place")


@admin.register(Honour)
class HonourAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("year", "member", "title", "rank", "points", "state", "nominated_by", "decided_by")
    list_filter = ("year", "state")
    list_select_related = ("member", "nominated_by", "decided_by")


@admin.register(SharingSession)
class SharingSessionAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("held_on", "topic", "organisation")
    list_select_related = ("organisation",)
