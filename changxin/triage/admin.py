from django.contrib import admin

from changxin.core.admin_scope import ScopedAdmin
from changxin.triage.models import PlaceAlias, RoutingRule


@admin.register(PlaceAlias)
class PlaceAliasAdmin(ScopedAdmin):
    """Aliases of places: district administrators add and change them; unit staff see their own area's."""

    list_display = ("alias", "kind", "unit", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("alias", "unit__name", "note")
    autocomplete_fields = ("unit",)
    list_select_related = ("unit",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(ScopedAdmin):
    list_display = ("category", "street", "unit", "priority", "is_active")
    list_filter = ("is_active", "category__level")
    search_fields = ("category__full_name", "street__name", "unit__name", "note")
    autocomplete_fields = ("category", "street", "unit")
    list_select_related = ("category", "street", "unit")
