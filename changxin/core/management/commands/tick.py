from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from changxin.core import jobs


def describe(result) -> str:
    if isinstance(result, Exception):
        return f"FAILED {result!r}"
    if isinstance(result, dict):
        return ", ".join(f"{key}: {value}" for key, value in result.items())
    return "done" if result is None else str(result)


class Command(BaseCommand):
    help = (
        "One pass of the background work, for cron (every minute) where no `changxin worker` runs: "
        "the periodic jobs due this minute (deadline escalation, catch-up, …), then every queued job."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="run every periodic job, due or not")
        parser.add_argument("--no-drain", action="store_true", help="leave the queued jobs to a worker")

    def handle(self, *args, **opts):
        results = jobs.run_periodic_once(due_at=None if opts["all"] else timezone.now())
        for name, result in results.items():
            self.stdout.write(f"{name}: {describe(result)}")
        if not opts["no_drain"]:
            self.stdout.write(f"queued jobs run: {jobs.drain()}")
        failed = sorted(name for name, result in results.items() if isinstance(result, Exception))
        if failed:
            raise CommandError(f"failed: {', '.join(failed)} (see the log and the admin's failed jobs)")
