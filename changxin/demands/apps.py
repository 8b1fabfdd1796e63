from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "changxin.demands"
    label = "demands"
    verbose_name = _("Demands: 接诉即办 engine")
