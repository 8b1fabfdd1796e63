from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.navigation import NavEntry


class InsightConfig(AppConfig):
    name = "changxin.insight"
    label = "insight"
    verbose_name = _("Insight: rankings, dashboards, reports")
    # 未诉先办 tasks and 每月一题 problems (insight/proactive.py, insight/monthly.py)
    event_streams = {"proactive": "insight.ProactiveEvent", "monthly": "insight.ProblemEvent"}

    navigation = [
        NavEntry(
            "insight",
            _("Data"),
            _("Data and rankings"),
            ("insight:home",),
            visible=roles.may_see_insight,  # the public would only meet a 403
            order=50,
        ),
    ]

    def load_demo(self, stdout=None) -> None:
        """Called by `changxin demo` after the demo demands: today's hot spots, as the hourly job
        (`insight/tasks.py`) would find them, so the hot-spot pages have something to show."""
        from changxin.insight import services

        summary = services.refresh_hot_spots()
        if stdout is not None:
            stdout.write(f"hot spots: {summary['hot_spots']} ({summary['rising']} rising)\n")
        from changxin.insight import demo  # 未诉先办 and 每月一题, from those hot spots

        demo.load_demo(stdout)

    def home_cards(self, user) -> list[dict]:
        """Home-page cards (scoped to the user): this month's demands and the overdue ones."""
        from changxin.insight import dashboard

        if not roles.may_see_insight(user):
            return []
        return [
            {"label": _("Demands this month"), "value": dashboard.month_count(user), "url": "insight:home"},
            {"label": _("Overdue demands"), "value": dashboard.overdue_count(user), "url": "demands:overdue"},
        ]
