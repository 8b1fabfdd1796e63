from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.admin_scope import DistrictAdminOnly, NeverDeleted, PermanentRecordAdmin, ScopedInline
from changxin.core.privacy import mask_name, mask_phone
from changxin.demands.models import (
    Category,
    DeadlinePolicy,
    Demand,
    DemandAttachment,
    DemandEvent,
    DemandTask,
    RankingWeights,
    UnitReview,
)


@admin.register(Category)
class CategoryAdmin(DistrictAdminOnly):
    list_display = ("full_name", "level", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("name", "full_name")
    autocomplete_fields = ("parent",)


class DemandTaskInline(NeverDeleted, ScopedInline, admin.TabularInline):
    model = DemandTask
    extra = 0
    fields = ("unit", "role", "state", "assigned_at", "due_at", "acknowledged_at", "done_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DemandEventInline(NeverDeleted, ScopedInline, admin.TabularInline):
    model = DemandEvent
    extra = 0
    fields = ("at", "actor_name", "action", "from_state", "to_state", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Demand)
class DemandAdmin(PermanentRecordAdmin):
    """Read-mostly: state changes go through the workflow screens, never through admin edits."""

    list_display = (
        "number",
        "title",
        "demand_type",
        "state",
        "lead_unit",
        "street",
        "received_at",
        "finish_due",
    )
    list_select_related = ("lead_unit", "street")
    list_filter = ("state", "demand_type", "urgency", "channel")
    search_fields = ("number", "title", "address")
    date_hierarchy = "received_at"
    inlines = [DemandTaskInline, DemandEventInline]
    readonly_fields = [f.name for f in Demand._meta.fields]
    # The requester is shown masked to everyone here; the tracking code (which lets its holder rate
    # the outcome) to the centre only. Nobody filters or searches on them (admin_scope).
    personal_fields = {
        "requester_name": "masked_requester",
        "requester_phone": "masked_requester",
        "idempotency_key": None,
        "tracking_code": None,
    }

    def may_see_personal(self, request, field: str) -> bool:
        return field == "tracking_code" and roles.is_centre(request.user)

    @admin.display(description=_("requester"))
    def masked_requester(self, obj):
        return f"{mask_name(obj.requester_name)} {mask_phone(obj.requester_phone)}"


@admin.register(DemandAttachment)
class DemandAttachmentAdmin(PermanentRecordAdmin):
    list_display = ("original_name", "demand", "content_type", "size", "uploaded_at")
    readonly_fields = ("demand", "file", "original_name", "content_type", "size")


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(DistrictAdminOnly):
    list_display = (
        "__str__",
        "contact_amount",
        "contact_unit",
        "finish_amount",
        "finish_unit",
        "max_extension_days",
    )


@admin.register(RankingWeights)
class RankingWeightsAdmin(DistrictAdminOnly):
    list_display = ("month", "response_weight", "resolution_weight", "satisfaction_weight")

    def has_change_permission(self, request, obj=None):
        """A past or closed month's weights are frozen (RULES.md): shown, never edited."""
        from django.utils import timezone

        if obj is not None and (obj.month < timezone.localdate().replace(day=1) or obj.is_closed):
            return False
        return super().has_change_permission(request, obj)


@admin.register(UnitReview)
class UnitReviewAdmin(DistrictAdminOnly):
    list_display = ("unit", "requires_review")
    list_filter = ("requires_review",)
    autocomplete_fields = ("unit",)
