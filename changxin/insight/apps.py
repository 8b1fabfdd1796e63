from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "changxin.insight"
    label = "insight"
    verbose_name = _("Insight: rankings, dashboards, reports")

    def home_cards(self, user) -> list[dict]:
        """Home-page cards (scoped to the user): this month's demands and the overdue ones."""
        from changxin.insight import dashboard, selectors

        if not selectors.may_see_insight(user):
            return []
        return [
            {"label": _("Demands this month"), "value": dashboard.month_count(user), "url": "insight:home"},
            {"label": _("Overdue demands"), "value": dashboard.overdue_count(user), "url": "insight:home"},
        ]
