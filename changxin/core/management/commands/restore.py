from django.core.management.base import BaseCommand, CommandError

from changxin.core import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `changxin backup` into the configured database (its tables are "
        "replaced) and its files into MEDIA_ROOT. Stop the app processes and workers first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a backup directory (…/changxin-YYYYmmdd-HHMMSS)")
        parser.add_argument(
            "--database-url", help="restore into this database instead (e.g. to check a backup)"
        )
        parser.add_argument("--media-root", help="extract the files here instead of MEDIA_ROOT")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the data")

    def handle(self, *args, **opts):
        if not opts["yes"] and not opts["database_url"]:
            answer = input("This replaces every table of the configured database. Type 'yes' to go on: ")
            if answer.strip() != "yes":
                raise CommandError("restore cancelled")
        try:
            manifest = backup.restore(
                opts["path"], database_url=opts["database_url"], media_root=opts["media_root"]
            )
        except (backup.BackupError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {manifest['engine']} backup of {manifest['created']} "
            f"({len(manifest['tables'])} tables)"
        )
