from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "changxin.api"
    label = "api"
    verbose_name = _("REST API")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from changxin.api import keys
        from changxin.api.models import ApiKey
        from changxin.core.models import OrgUnit

        for model in (ApiKey, get_user_model(), OrgUnit):  # the authenticated keys (api/keys.py)
            for signal in (post_save, post_delete):
                signal.connect(keys.forget, sender=model, dispatch_uid=f"api-keys-{model.__name__}")
