from django.contrib import admin

from changxin.brands.models import Brand, BrandEvent, PracticeCase
from changxin.core.admin_scope import ScopedAdmin, WrittenByServices


@admin.register(Brand)
class BrandAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("name", "field", "street", "owner", "state")
    list_filter = ("field", "state")
    search_fields = ("name",)
    list_select_related = ("street", "owner")


@admin.register(PracticeCase)
class PracticeCaseAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("title", "brand", "area", "starts_on", "ends_on", "state")
    list_filter = ("state",)
    list_select_related = ("brand", "area")


@admin.register(BrandEvent)
class BrandEventAdmin(WrittenByServices, ScopedAdmin):
    list_display = ("at", "brand", "action", "from_state", "to_state", "actor_name")
    list_select_related = ("brand",)
    list_filter = ("action",)
