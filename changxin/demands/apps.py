from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "changxin.demands"
    label = "demands"
    verbose_name = _("Demands: 接诉即办 engine")
    # The demand timeline is published to subscribers (core/events.py) after each commit.
    event_streams = {"demands": "demands.DemandEvent"}

    def load_demo(self, stdout=None) -> None:
        """Called by `changxin demo` (core/demo.py): a few hundred demands in every state."""
        from changxin.demands.demo import load_demo

        load_demo(stdout)

    def home_panels(self, user) -> list[dict]:
        """The home page shows each role its work (core/selectors.home_panels)."""
        from changxin.demands.home import panels_for

        return panels_for(user)
