from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from changxin.api import keys
from changxin.api.models import ApiKey
from changxin.core.admin_scope import DistrictAdminOnly


@admin.register(ApiKey)
class ApiKeyAdmin(DistrictAdminOnly):
    """Keys are created here or with `changxin apikey create`; the key text is shown once."""

    list_display = ["name", "prefix", "kind", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user"]
        return ["name", "kind", "user", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["kind", "user", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = keys.create_key(obj.name, user=obj.user, created_by=request.user)
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _("The new key is %(key)s — copy it now, it will not be shown again.") % {"key": raw},
        )

    @admin.action(description=_("Revoke selected keys"))
    def revoke_selected(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            keys.revoke_key(key, actor=request.user)
            count += 1
        self.message_user(
            request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count}
        )
