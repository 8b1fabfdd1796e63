from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationConfig(AppConfig):
    name = "changxin.station"
    label = "station"
    verbose_name = _("先丰站: citizen portal and hotline intake")
