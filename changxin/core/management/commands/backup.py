from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from changxin.core import backup


class Command(BaseCommand):
    help = (
        "Back up the database (PostgreSQL: pg_dump custom format; SQLite: an online consistent copy) and "
        "the uploaded files into a new directory under CHANGXIN_BACKUP_DIR, then delete backups older "
        "than CHANGXIN_BACKUP_KEEP_DAYS. Schedule it from cron (see docs/SECURITY.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="where backups go (default CHANGXIN_BACKUP_DIR or var/backups)")
        parser.add_argument("--no-media", action="store_true", help="the database only")
        parser.add_argument(
            "--keep-days",
            type=int,
            default=settings.CHANGXIN_BACKUP_KEEP_DAYS,
            help="delete backups older than this many days (0 keeps all; the newest is always kept)",
        )

    def handle(self, *args, **opts):
        try:
            path = backup.backup(opts["dir"], include_media=not opts["no_media"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written: {path}")
        if opts["keep_days"]:
            for old in backup.prune(opts["dir"], keep_days=opts["keep_days"]):
                self.stdout.write(f"old backup deleted: {old}")
