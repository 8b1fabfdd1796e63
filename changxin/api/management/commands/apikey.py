"""`changxin apikey create NAME [--user USERNAME] [--role ROLE]`, `apikey list`, `apikey revoke PREFIX`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from changxin.api import keys
from changxin.api.models import ApiKey
from changxin.core.models import User


class Command(BaseCommand):
    help = "Create, list and revoke API keys (REST API and Open311)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key; the key is printed once.")
        create.add_argument("name", help="What the key is for, e.g. '12345 hotline integration'.")
        create.add_argument("--user", help="Username the key acts as. Without it: an integration client key.")
        create.add_argument(
            "--role",
            default=keys.DEFAULT_INTEGRATION_ROLE,
            choices=[str(r) for r in keys.INTEGRATION_ROLES],
            help="Role of an integration client's service user (default: operator).",
        )
        listing = sub.add_parser("list", help="List keys (never the key text).")
        listing.add_argument("--all", action="store_true", help="Include revoked keys.")
        revoke = sub.add_parser("revoke", help="Revoke a key by its prefix (cx_<prefix>_…) or the whole key.")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, name, user=None, role=keys.DEFAULT_INTEGRATION_ROLE, **_):
        account = None
        if user:
            account = User.objects.filter(username=user).first()
            if account is None:
                raise CommandError(f"No user named {user!r}.")
            if not account.is_active:
                raise CommandError(f"User {user!r} is inactive.")
        key, raw = keys.create_key(name, user=account, role=role)
        self.stdout.write(raw)
        self.stderr.write(
            f"Created key {key.prefix} '{key.name}' acting as {key.user.username} ({key.user.role}). "
            "Store it now: it is not shown again."
        )

    def _list(self, all=False, **_):
        rows = ApiKey.objects.select_related("user").order_by("created_at")
        if not all:
            rows = rows.active()
        for key in rows:
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(
                f"{key.prefix}\t{key.kind}\t{key.user.username}\t{key.user.role}\t{state}\tused {used}\t{key.name}"
            )

    def _revoke(self, prefix, **_):
        parts = keys.split_key(prefix)
        lookup = parts[0] if parts else prefix.strip()
        key = ApiKey.objects.filter(prefix=lookup).first()
        if key is None:
            raise CommandError(f"No key with prefix {lookup!r}.")
        if key.revoked_at:
            self.stdout.write(f"Key {key.prefix} was already revoked.")
            return
        keys.revoke_key(key)
        self.stdout.write(f"Revoked key {key.prefix} '{key.name}'.")
