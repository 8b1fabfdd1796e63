"""The demo gives the demo officers an inbox, and running it again writes nothing twice."""

from __future__ import annotations

import io

from django.apps import apps

from changxin.demands.demo import load_demo as load_demo_demands
from changxin.notifications.models import Notification, NotificationKind, OutboundMessage


def test_the_demo_fills_the_demo_officers_inboxes_once(demo_world):
    load_demo_demands(None, count=80)
    out = io.StringIO()
    apps.get_app_config("notifications").load_demo(out)
    assert "demo notifications:" in out.getvalue()
    officer = demo_world["lugouqiao"]
    mine = Notification.objects.filter(recipient=officer)
    assert mine.filter(kind=NotificationKind.DISPATCHED).exists(), out.getvalue()
    assert mine.filter(kind__in=[NotificationKind.OVERDUE, NotificationKind.NEARLY_OVERDUE]).exists()
    assert OutboundMessage.objects.filter(kind="accepted").exists()
    before = (Notification.objects.count(), OutboundMessage.objects.count())
    apps.get_app_config("notifications").load_demo(None)
    assert (Notification.objects.count(), OutboundMessage.objects.count()) == before
