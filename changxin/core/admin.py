from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core.admin_scope import AdministratorsLog, DistrictAdminOnly, ScopedAdmin, ScopedInline
from changxin.core.models import (
    AuditEntry,
    CalendarDay,
    CalendarYear,
    EventCursor,
    EventReceipt,
    JobFailure,
    OrgUnit,
    User,
)
from changxin.core.privacy import mask_email, mask_phone
from changxin.core.roles import is_district_admin
from changxin.core.workcalendar import calendar_changed

admin.site.unregister(Group)


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    list_display = ("name", "code", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "code")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth")


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    list_display = ("username", "full_name", "role", "unit", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name", "unit__name")
    autocomplete_fields = ("unit",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (_("Role and unit"), {"fields": ("role", "unit", "is_active", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "unit")}),
    )

    # Personal data: district administrators see it (the view is logged); everyone else in scope
    # (unit staff, leadership: view-only) sees it masked and may not filter or search on it.
    personal_fields = {"phone": "masked_phone", "email": "masked_email"}

    def may_see_personal(self, request, field: str) -> bool:
        return is_district_admin(request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("is_superuser",)  # only a superuser makes superusers
        return readonly

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone) or "—"

    @admin.display(description=_("email address"))
    def masked_email(self, obj):
        return mask_email(obj.email) or "—"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            shown = [f for f in self.personal_fields if getattr(obj, f) and self.may_see_personal(request, f)]
            if shown:
                audit.record_personal_view(request.user, obj, shown, request=request)
        return super().render_change_form(request, context, add, change, form_url, obj)


class CalendarDayInline(ScopedInline, admin.TabularInline):
    model = CalendarDay
    extra = 5
    fields = ("date", "is_workday", "name")


@admin.register(CalendarYear)
class CalendarYearAdmin(DistrictAdminOnly):
    """Admins enter a new year's official schedule here (holidays and 调休 working weekends)."""

    list_display = ("year", "source", "notice", "updated_at")
    inlines = [CalendarDayInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = CalendarYear.Source.ADMIN
            obj.entered_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        calendar_changed()

    def get_readonly_fields(self, request, obj=None):
        return ("source", "entered_by", "updated_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(AdministratorsLog):
    list_display = ("at", "actor_name", "action", "content_type", "object_repr", "ip")
    list_filter = ("action", "content_type")
    search_fields = ("actor_name", "object_repr", "object_id", "detail")
    date_hierarchy = "at"


@admin.register(JobFailure)
class JobFailureAdmin(AdministratorsLog):
    """Background jobs that failed for good (changxin/core/jobs.py): read-only, for follow-up."""

    list_display = ("failed_at", "job", "arguments", "attempts")
    list_filter = ("job",)
    search_fields = ("job", "arguments", "error")
    date_hierarchy = "failed_at"
    readonly_fields = ("job", "job_id", "arguments", "error", "attempts", "failed_at")


@admin.register(EventCursor)
class EventCursorAdmin(AdministratorsLog):
    """Where each subscriber of the published events stands (core/events.py): a cursor that stops
    moving means a subscriber keeps failing (see Failed jobs and the log)."""

    list_display = ("subscriber", "stream", "position", "candidate", "candidate_seen_at", "updated_at")
    list_filter = ("stream",)


@admin.register(EventReceipt)
class EventReceiptAdmin(AdministratorsLog):
    """Events handled past a subscriber's cursor (pruned once the cursor moves past them)."""

    list_display = ("subscriber", "stream", "event_id", "at")
    list_filter = ("subscriber", "stream")
    search_fields = ("=event_id",)
