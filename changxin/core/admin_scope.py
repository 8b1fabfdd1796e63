"""Scoped Django admin: the admin goes through the same scoping as every other view.

Every ModelAdmin in the project derives from `ScopedAdmin`:
- the change list shows only rows `restrict()` lets the user see;
- an object outside the user's scope is a 404 (not the admin's "perhaps it was deleted" redirect);
- district leadership may view but never change; unit staff view their subtree; only district
  administrators add, change and delete unless an admin class widens `unit_staff_can_change`;
- every add/change/delete made in the admin is written to the audit log;
- inlines (`ScopedInline`) list only the related rows the viewer may see;
- a permanent record (`PermanentRecordAdmin`: demands and their history, the audit log) offers no
  delete view, no delete action and no inline delete to anyone, superusers included.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404

from changxin.core import audit, roles
from changxin.core.models import AuditAction
from changxin.core.roles import is_district_admin
from changxin.core.scope import restrict


class RolePermissions:
    """The admin's permission rules by role (instead of Django's per-model permissions), shared by
    scoped model admins and their inlines."""

    unit_staff_can_change = False

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_staff and roles.is_staff_side(user)

    def has_change_permission(self, request, obj=None):
        user = request.user
        if is_district_admin(user):
            return True
        return (
            self.unit_staff_can_change and self.has_view_permission(request) and not roles.is_read_only(user)
        )


class ScopedAdmin(RolePermissions, admin.ModelAdmin):
    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(str(self.model._meta.verbose_name))
        return obj

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return is_district_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_district_admin(request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            request.user,
            AuditAction.UPDATE if change else AuditAction.CREATE,
            obj,
            fields=list(form.changed_data),
            detail="admin",
            request=request,
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for obj in getattr(formset, "new_objects", []):
                audit.record(request.user, AuditAction.CREATE, obj, detail="admin inline", request=request)
            for obj, changed in getattr(formset, "changed_objects", []):
                audit.record(
                    request.user,
                    AuditAction.UPDATE,
                    obj,
                    fields=list(changed),
                    detail="admin inline",
                    request=request,
                )
            for obj in getattr(formset, "deleted_objects", []):
                audit.record(request.user, AuditAction.DELETE, obj, detail="admin inline", request=request)

    def delete_model(self, request, obj):
        audit.record(request.user, AuditAction.DELETE, obj, detail="admin", request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(request.user, AuditAction.DELETE, obj, detail="admin", request=request)
        super().delete_queryset(request, queryset)


class ScopedInline(RolePermissions):
    """Mixin for inlines of a ScopedAdmin: the same role rules instead of Django's per-model perms,
    and only the rows the viewer may see (when the inline's model declares a Scope; otherwise the
    parent admin's scope is the only one).

    Without it a district administrator (role, not superuser) would not even see the inline rows.
    """

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if hasattr(self.model, "Scope"):
            return restrict(queryset, request.user)
        return queryset

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_district_admin(request.user)


class DistrictAdminOnly(ScopedAdmin):
    """Reference data and logs that only district administrators see in the admin."""

    def has_view_permission(self, request, obj=None):
        user = request.user
        return is_district_admin(user) or (roles.is_active(user) and roles.is_read_only(user))


class NeverDeleted:
    """Mixin for admins and inlines of a permanent record: nobody deletes, superusers included."""

    can_delete = False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class WrittenByServices(NeverDeleted):
    """Mixin for logs and records only the services write (audit, failed jobs, event cursors,
    notifications): nobody adds, changes or deletes them in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AdministratorsLog(WrittenByServices, DistrictAdminOnly):
    """A log only district administrators read (not leadership): the audit log records who looked at
    whose personal data; failed jobs and event cursors are operations' business."""

    def has_view_permission(self, request, obj=None):
        return is_district_admin(request.user)


class PermanentRecordAdmin(NeverDeleted, ScopedAdmin):
    """A scoped admin for rows that are archived, never deleted (demands and their history)."""
