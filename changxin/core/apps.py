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
            "port",
            _("Xianfeng Port"),
            _("Enterprise services"),
            ("port:home",),
            order=20,
            placeholder=True,
            coming=_(
                "Services for enterprises: a service manager for each enterprise (一卡三包四清单), "
                "investment projects, joint inspections and matching policies. Until it opens, "
                "enterprises file their matters through Xianfeng Station."
            ),
        ),
        NavEntry(
            "pioneers",
            _("Pioneers"),
            _("Party members"),
            ("pioneers:home",),
            order=30,
            placeholder=True,
            coming=_(
                "Party organisations and members: the membership pipeline, public commitments, "
                "points for the demands members help to handle, and volunteer services."
            ),
        ),
        NavEntry(
            "brands",
            _("Brand matrix"),
            _("Pioneer brands"),
            ("brands:home",),
            order=40,
            placeholder=True,
            coming=_(
                "The pioneer brand matrix: the service brands of each street and community, "
                "what they offer and what they have done."
            ),
        ),
    ]
