import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


class TriageConfig(AppConfig):
    name = "changxin.triage"
    label = "triage"
    verbose_name = _("Triage intelligence")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from changxin.core.models import OrgUnit
        from changxin.triage import gazetteer
        from changxin.triage.models import PlaceAlias

        for model in (OrgUnit, PlaceAlias):
            post_save.connect(
                gazetteer.invalidate, sender=model, dispatch_uid=f"triage-gazetteer-{model.__name__}"
            )
            post_delete.connect(
                gazetteer.invalidate, sender=model, dispatch_uid=f"triage-gazetteer-del-{model.__name__}"
            )

    def prepare_demo(self, stdout=None) -> None:
        """Before any app's demo data: place aliases, routing rules and a classifier, so the demo
        demands that follow are triaged at intake like real ones."""
        from changxin.triage.classifier import ensure_demo_model
        from changxin.triage.gazetteer import seed_aliases
        from changxin.triage.routing import seed_demo_rules

        aliases = seed_aliases()
        rules = seed_demo_rules()
        if stdout is not None:
            stdout.write(f"triage: {aliases} place aliases, {rules} routing rules created\n")
        # The demo classifier learns from 175 messages the project team wrote (data/README.md);
        # an existing model (e.g. one trained on real data) is left alone.
        ensure_demo_model(stdout)
