import logging
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from huey.consumer_options import ConsumerConfig

from changxin.core import jobs


class Command(BaseCommand):
    help = (
        "Run background jobs: queued jobs, retries and the periodic jobs on their schedule. "
        "Stops gracefully on SIGTERM (running jobs finish), at once on SIGINT/Ctrl-C."
    )

    def add_arguments(self, parser):
        default = (settings.HUEY.get("consumer", {}) if isinstance(settings.HUEY, dict) else {}).get(
            "workers", 2
        )
        parser.add_argument(
            "--workers", type=int, default=default, help=f"worker threads (default {default})"
        )
        parser.add_argument("--no-periodic", action="store_true", help="do not run the periodic jobs")
        parser.add_argument(
            "--shutdown-timeout", type=float, default=30, help="seconds running jobs get on SIGTERM"
        )

    def handle(self, *args, **opts):
        from huey.contrib.djhuey import HUEY

        if HUEY.immediate:
            raise CommandError(
                "Jobs run immediately (CHANGXIN_JOBS_IMMEDIATE), so a worker has nothing to do."
            )
        jobs.discover()
        if os.environ.get("CHANGXIN_WARM_UP", "1") != "0":
            from changxin.triage.warmup import warm_up

            warm_up(database=True)  # the models load now, not on the first demand
        config = ConsumerConfig(
            workers=opts["workers"],
            worker_type="thread",
            periodic=not opts["no_periodic"],
            graceful_signal="TERM",
            shutdown_timeout=opts["shutdown_timeout"],
            max_delay=2.0,  # an idle SQLite queue is polled at least every 2 s (Redis blocks instead)
            verbose={0: False, 1: None}.get(opts["verbosity"], True),
        )
        config.validate()
        huey_logger = logging.getLogger("huey")
        if not huey_logger.handlers:
            config.setup_logger(huey_logger)
            huey_logger.propagate = False  # the root console handler would print every line twice
        self.stdout.write(
            f"worker: {opts['workers']} threads on {type(HUEY.storage).__name__} queue {HUEY.name!r}; "
            f"periodic jobs: {', '.join(p.name for p in jobs.registered_periodic()) or 'none'}"
        )
        self.stdout.flush()
        HUEY.create_consumer(**config.values).run()
