from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core.navigation import NavEntry


def _visible(user) -> bool:
    from changxin.pioneers.selectors import may_open_pioneers

    return may_open_pioneers(user)


class PioneersConfig(AppConfig):
    name = "changxin.pioneers"
    label = "pioneers"
    verbose_name = _("Pioneers: party organisations and members")

    event_streams = {
        "pipeline": "pioneers.PipelineEvent",
        "transfers": "pioneers.TransferEvent",
        "volunteering": "pioneers.VolunteerEvent",
        "commitments": "pioneers.CommitmentEvent",
        "honours": "pioneers.HonourEvent",
    }

    navigation = [
        NavEntry(
            "pioneers", _("Pioneers"), _("Party members"), ("pioneers:home",), order=30, visible=_visible
        ),
    ]

    def ready(self) -> None:
        from changxin.pioneers import selectors

        selectors.register_scope()
        from changxin.pioneers import ledger, selectors_branch, volunteering

        selectors_branch.register_scope()
        ledger.register_source(volunteering.STREAM, volunteering.verify_entries)
        from changxin.pioneers import commitments

        ledger.register_source(commitments.STREAM, commitments.verify_entries)
        ledger.register_source(commitments.RELIEF, commitments.verify_relief_entries)

    def load_demo(self, stdout=None) -> None:
        from changxin.pioneers.demo import load_demo

        load_demo(stdout)
