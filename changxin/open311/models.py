"""Open311 tokens: an opaque id a client can trade for the service_request_id (GET tokens/{token})."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core import scope


def new_token() -> str:
    return secrets.token_hex(16)


class RequestToken(models.Model):
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token)
    demand = models.OneToOneField(
        "demands.Demand", verbose_name=_("demand"), on_delete=models.CASCADE, related_name="open311_token"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    Scope = scope.through("demand")

    class Meta:
        verbose_name = _("Open311 token")
        verbose_name_plural = _("Open311 tokens")

    def __str__(self) -> str:
        return self.token
