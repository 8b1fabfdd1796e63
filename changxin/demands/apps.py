from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "changxin.demands"
    label = "demands"
    verbose_name = _("Demands: 接诉即办 engine")
    # The demand timeline is published to subscribers (core/events.py) after each commit.
    event_streams = {"demands": "demands.DemandEvent"}

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from changxin.core.models import OrgUnit
        from changxin.demands import lookups
        from changxin.demands.models import Category

        for model in (Category, OrgUnit):  # intake's per-process lookups (demands/lookups.py)
            for signal in (post_save, post_delete):
                signal.connect(lookups.clear, sender=model, dispatch_uid=f"demands-lookups-{model.__name__}")

    def load_demo(self, stdout=None) -> None:
        """Called by `changxin demo` (core/demo.py): a few hundred demands in every state."""
        from changxin.demands.demo import load_demo

        load_demo(stdout)

    def home_panels(self, user) -> list[dict]:
        """The home page shows each role its work (core/selectors.home_panels)."""
        from changxin.demands.home import panels_for

        return panels_for(user)
