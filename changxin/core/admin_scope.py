"""Scoped Django admin: the admin goes through the same scoping as every other view.

Every ModelAdmin in the project derives from `ScopedAdmin`:
- the change list shows only rows `restrict()` lets the user see;
- an object outside the user's scope is a 404 (not the admin's "perhaps it was deleted" redirect);
- district leadership may view but never change; unit staff view their subtree; only district
  administrators add, change and delete unless an admin class widens `unit_staff_can_change`;
- every add/change/delete made in the admin is written to the audit log;
- inlines (`ScopedInline`) list only the related rows the viewer may see;
- a permanent record (`PermanentRecordAdmin`: demands and their history, the audit log) offers no
  delete view, no delete action and no inline delete to anyone, superusers included;
- personal data (`personal_fields`, e.g. a requester's phone, a tracking code) is shown, searched
  and filtered on only by those `may_see_personal` allows: for everyone else the field is dropped or
  replaced by its masked display, and any query-string lookup that touches it (`?phone__startswith=`,
  `__regex`, exact, through a relation) is refused with a 400 — a masked value cannot be rebuilt
  digit by digit through the change list's filters — and search leaves it out.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
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


def _personal_admin(model):
    """The registered admin of `model` if it declares personal fields (for lookups through relations)."""
    model_admin = admin.site._registry.get(model)
    return model_admin if getattr(model_admin, "personal_fields", None) else None


class PersonalDataAdmin:
    """Hides, and refuses lookups on, the personal fields of a model admin.

    `personal_fields` maps each personal field to the name of its masked display (a method or
    attribute of the admin shown instead) or to None (dropped). `may_see_personal(request, field)`
    says who sees a field unmasked; by default nobody does in the admin.
    """

    personal_fields: dict[str, str | None] = {}

    def may_see_personal(self, request, field: str) -> bool:
        return False

    def hidden_personal_fields(self, request) -> list[str]:
        return [field for field in self.personal_fields if not self.may_see_personal(request, field)]

    def _personal_replacement(self, request, name: str):
        """(hidden?, replacement) for a field name in a fieldset or list display."""
        if name in self.personal_fields and not self.may_see_personal(request, name):
            return True, self.personal_fields[name]
        return False, name

    def _shown(self, request, names) -> list:
        shown = []
        for name in names:
            if isinstance(name, (list, tuple)):  # a row of several fields
                row = self._shown(request, name)
                if row:
                    shown.append(tuple(row))
                continue
            hidden, replacement = self._personal_replacement(request, name)
            if not hidden:
                shown.append(name)
            elif replacement and replacement not in shown:
                shown.append(replacement)
        return shown

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [
            (title, {**opts, "fields": self._shown(request, opts["fields"])}) for title, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = self._shown(request, super().get_readonly_fields(request, obj))
        for field in self.hidden_personal_fields(request):  # masked displays are read-only
            replacement = self.personal_fields[field]
            if replacement and replacement not in readonly:
                readonly.append(replacement)
        return readonly

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or ())
        return exclude + [f for f in self.hidden_personal_fields(request) if f not in exclude]

    def get_list_display(self, request):
        return self._shown(request, super().get_list_display(request))

    def get_search_fields(self, request):
        return [
            field
            for field in super().get_search_fields(request)
            if not self.touches_hidden_personal(request, field.lstrip("^=@"))
        ]

    def touches_hidden_personal(self, request, lookup: str) -> bool:
        """Whether a lookup path (`phone__startswith`, `demand__requester_phone`) reaches a personal
        field the viewer may not see, on this model or through a relation."""
        model, model_admin = self.model, self
        for part in lookup.split(LOOKUP_SEP):
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                return False
            personal = model_admin is not None and part in model_admin.personal_fields
            if personal and not model_admin.may_see_personal(request, part):
                return True
            if not field.is_relation or field.related_model is None:
                return False
            model = field.related_model
            model_admin = _personal_admin(model)
        return False

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None and self.touches_hidden_personal(request, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        for name in request.GET:
            if name in (IS_POPUP_VAR, TO_FIELD_VAR):
                continue
            if self.touches_hidden_personal(request, name):
                raise DisallowedModelAdminLookup(f"Filtering by {name} not allowed")
        return super().changelist_view(request, extra_context)


class ScopedAdmin(RolePermissions, PersonalDataAdmin, admin.ModelAdmin):
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
