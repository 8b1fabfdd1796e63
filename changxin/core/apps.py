from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core.navigation import NavEntry


class CoreConfig(AppConfig):
    name = "changxin.core"
    label = "core"
    verbose_name = _("Core: units, users, calendar, audit")

    # The wings still to come (一核两翼多点), shown as not yet available; each app's own entry with
    # the same key replaces its placeholder here.
    navigation = [
        NavEntry(
            "port", _("Xianfeng Port"), _("Enterprise services"), ("port:home",), order=20, placeholder=True
        ),
        NavEntry(
            "pioneers", _("Pioneers"), _("Party members"), ("pioneers:home",), order=30, placeholder=True
        ),
        NavEntry(
            "brands", _("Brand matrix"), _("Pioneer brands"), ("brands:home",), order=40, placeholder=True
        ),
    ]

    def ready(self):
        from changxin.core import security  # noqa: F401  (login success/failure audit receivers)
