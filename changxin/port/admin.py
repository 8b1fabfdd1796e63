from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.admin_scope import ScopedAdmin, WrittenByServices
from changxin.core.privacy import mask_name, mask_phone
from changxin.port.models import (
    Enterprise,
    EnterpriseDemand,
    EnterpriseEvent,
    Inspection,
    InspectionEvent,
    InspectionPlan,
    InspectorCertificate,
    JointVisit,
    PackageItem,
    Project,
    ProjectEvent,
    Visit,
)


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedAdmin):
    list_display = (
        "name",
        "credit_code",
        "street",
        "zone",
        "size",
        "credit_grade",
        "manager",
        "masked_contact",
        "is_key",
    )
    list_filter = ("zone", "size", "credit_grade", "is_key", "is_specialised", "is_high_tech", "is_active")
    search_fields = ("name", "credit_code")
    list_select_related = ("street", "manager")
    autocomplete_fields = ()
    raw_id_fields = ("manager",)
    filter_horizontal = ("members",)
    readonly_fields = ("public_code", "created_at", "updated_at")

    @admin.display(description=_("contact"))
    def masked_contact(self, obj):
        return f"{mask_name(obj.contact_name)} {mask_phone(obj.contact_phone)}".strip()

    # the contact is shown, filtered and searched on only by those who may see it unmasked: the centre
    # (core/admin_scope.py PersonalDataAdmin; port/services.may_see_contacts decides on the pages)
    personal_fields = {"contact_name": "masked_contact", "contact_phone": "masked_contact"}

    def may_see_personal(self, request, field: str) -> bool:
        return roles.is_centre(request.user)


@admin.register(EnterpriseDemand)
class EnterpriseDemandAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("demand", "enterprise", "visit", "created_at")
    list_select_related = ("demand", "enterprise", "visit")


@admin.register(Visit)
class VisitAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("enterprise", "visited_on", "visitor", "people_met")
    list_select_related = ("enterprise", "visitor")


@admin.register(EnterpriseEvent)
class EnterpriseEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "enterprise", "action", "actor_name")
    list_select_related = ("enterprise",)


@admin.register(Project)
class ProjectAdmin(ScopedAdmin):
    """The stage and its dates move only through the project machine (the project page)."""

    list_display = ("name", "zone", "street", "stage", "amount", "manager")
    list_filter = ("zone", "stage")
    list_select_related = ("street", "manager")
    raw_id_fields = ("manager", "enterprise")
    readonly_fields = ("stage", "reserved_on", "signed_on", "started_on", "completed_on", "version")


@admin.register(ProjectEvent)
class ProjectEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "project", "action", "from_stage", "to_stage", "actor_name")
    list_select_related = ("project",)


@admin.register(PackageItem)
class PackageItemAdmin(ScopedAdmin):
    list_display = ("enterprise", "kind", "title", "status", "amount")
    list_filter = ("kind", "status")
    list_select_related = ("enterprise",)


# --- 一码检查 ------------------------------------------------------------------------------------


@admin.register(InspectorCertificate)
class InspectorCertificateAdmin(ScopedAdmin):
    """Law-enforcement certificates: only inspectors above community level hold one (model clean)."""

    list_display = ("number", "user", "issued_by", "valid_from", "valid_until", "revoked")
    list_filter = ("revoked",)
    search_fields = ("number",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ScopedAdmin):
    list_display = ("year", "month", "department", "enterprise", "items")
    list_filter = ("year",)
    list_select_related = ("department", "enterprise")
    raw_id_fields = ("department", "enterprise")


@admin.register(Inspection)
class InspectionAdmin(WrittenByServices, ScopedAdmin):
    """Written only through port.inspections (the inspection machine)."""

    list_display = ("enterprise", "department", "planned_from", "state", "trigger", "refused_rule", "rating")
    list_filter = ("state", "trigger")
    list_select_related = ("enterprise", "department")


@admin.register(InspectionEvent)
class InspectionEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "inspection", "action", "from_state", "to_state", "actor_name")
    list_select_related = ("inspection",)


@admin.register(JointVisit)
class JointVisitAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("enterprise", "planned_from", "planned_until")
    list_select_related = ("enterprise",)
