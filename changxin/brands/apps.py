from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core.navigation import NavEntry


class BrandsConfig(AppConfig):
    name = "changxin.brands"
    label = "brands"
    verbose_name = _("多点: pioneer brands")

    event_streams = {"brands": "brands.BrandEvent"}

    # every signed-in user sees the published matrix (the public included: these are public figures)
    navigation = [
        NavEntry("brands", _("Brand matrix"), _("Pioneer brands"), ("brands:home",), order=40),
    ]

    def load_demo(self, stdout=None) -> None:
        from changxin.brands.demo import load_demo

        load_demo(stdout)
