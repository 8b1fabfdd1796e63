from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core.navigation import NavEntry


def may_use_port(user) -> bool:
    from changxin.port.selectors import may_use_port as check

    return check(user)


def may_use_inspections(user) -> bool:
    from changxin.port.inspections import may_use_inspections as check

    return check(user)


def _port_urls(user) -> tuple[str, ...]:
    return ("port:home",)


class PortConfig(AppConfig):
    name = "changxin.port"
    label = "port"
    verbose_name = _("先丰港: enterprise services")
    event_streams = {
        "projects": "port.ProjectEvent",  # the investment projects' stage history
        "inspections": "port.InspectionEvent",  # 一码检查: every inspection's lifecycle
    }

    navigation = [
        NavEntry(
            "port",
            _("Xianfeng Port"),
            _("Enterprise services"),
            _port_urls,
            visible=may_use_port,
            order=20,
            active_paths=("/port/",),
        ),
        NavEntry(
            "inspections",
            _("Inspections"),
            _("One-code inspection (一码检查)"),
            ("port:inspections",),
            visible=may_use_inspections,
            order=21,
            active_paths=("/port/inspections/",),
        ),
    ]

    def ready(self) -> None:
        from changxin.core import scope
        from changxin.demands.models import Demand
        from changxin.port import selectors

        # an enterprise account sees every demand of its enterprises (not only the ones it filed);
        # a service manager sees the demands of the enterprises they manage
        scope.extend(Demand, rule=selectors.enterprise_demand_rule)

    def load_demo(self, stdout=None) -> None:
        from changxin.port.demo import load_demo

        load_demo(stdout)
