from django.core.management.base import BaseCommand

from changxin.core import jobs
from changxin.core.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load Fengtai's divisions, the official calendar, demo users and demo data (idempotent)."

    def handle(self, *args, **opts):
        users = load_demo(self.stdout)
        # the demo's side work (event delivery: triage, notifications, messages) done here, so the
        # demo is complete even where no worker runs yet
        self.stdout.write(f"background jobs run: {jobs.drain()}")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for user in users:
            unit = f" @ {user.unit}" if user.unit else ""
            self.stdout.write(f"  {user.username:16} {user.get_role_display()}{unit}")
