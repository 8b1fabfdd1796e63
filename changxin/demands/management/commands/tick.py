from django.core.management.base import BaseCommand

from changxin.demands.services import escalate_overdue


class Command(BaseCommand):
    help = "Escalate (督办) overdue demands. Idempotent: safe to run every minute."

    def handle(self, *args, **opts):
        count = escalate_overdue()
        self.stdout.write(f"supervised: {count}")
