from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.navigation import NavEntry


def _station_urls(user) -> tuple[str, ...]:
    """Staff reach 先丰站 through their demand-handling screens; the public through the portal."""
    return ("demands:index", "station:home") if roles.is_staff_side(user) else ("station:home",)


class StationConfig(AppConfig):
    name = "changxin.station"
    label = "station"
    verbose_name = _("先丰站: citizen portal and hotline intake")

    navigation = [
        NavEntry(
            "station",
            _("Xianfeng Station"),
            _("Citizen demands"),
            _station_urls,
            order=10,
            active_paths=("/station/", "/demands/"),
        ),
    ]

    def home_panels(self, user) -> list[dict]:
        """A citizen's or enterprise's home page: their own demands (core/selectors.home_panels)."""
        if roles.is_staff_side(user) or not getattr(user, "is_authenticated", False):
            return []
        from changxin.station.selectors import own_demands

        return [{"template": "station/_home_panel.html", "order": 10, "own_demands": own_demands(user)[:10]}]
