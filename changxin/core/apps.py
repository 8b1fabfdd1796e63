from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core.navigation import NavEntry


def wing(key, title, subtitle, order, coming) -> NavEntry:
    """A placeholder for a wing still to come; its app's own entry ("<key>:home") replaces it."""
    return NavEntry(key, title, subtitle, (f"{key}:home",), order=order, placeholder=True, coming=coming)


class CoreConfig(AppConfig):
    name = "changxin.core"
    label = "core"
    verbose_name = _("Core: units, users, calendar, audit")

    # The wings still to come (一核两翼多点), shown as not yet available; each app's own entry with
    # the same key replaces its placeholder here.
    navigation = [
        wing(
            "port",
            _("Xianfeng Port"),
            _("Enterprise services"),
            20,
            _(
                "Services for enterprises: a service manager for each enterprise (一卡三包四清单), "
                "investment projects, joint inspections and matching policies. Until it opens, "
                "enterprises file their matters through Xianfeng Station."
            ),
        ),
        wing(
            "pioneers",
            _("Pioneers"),
            _("Party members"),
            30,
            _(
                "Party organisations and members: the membership pipeline, public commitments, "
                "points for the demands members help to handle, and volunteer services."
            ),
        ),
    ]

    def ready(self):
        from changxin.core import security  # noqa: F401  (login success/failure audit receivers)
