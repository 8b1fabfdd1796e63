"""API keys: one per user or per integration client, stored hashed, revocable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from changxin.core.roles import Role


class ApiKeyKind(models.TextChoices):
    USER = "user", _("Personal key (acts as its user)")
    INTEGRATION = "integration", _("Integration client (acts as its service user)")


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A bearer key. Only its prefix (for lookup) and the SHA-256 of the whole key are stored.

    The key is `cx_<prefix>_<secret>` with a 256-bit random secret, so a fast hash is enough (no
    password stretching needed for high-entropy secrets); the raw key is shown once, at creation.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=ApiKeyKind.choices, default=ApiKeyKind.USER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as user"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Scope:
        owner_fields = ("user",)
        district_roles = frozenset({Role.ADMIN})

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (cx_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
