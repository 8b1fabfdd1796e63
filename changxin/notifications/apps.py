from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.navigation import NavEntry


def _unread(user) -> int | None:
    """The unread count shown beside the navigation entry (None: show no badge)."""
    from changxin.notifications.services import unread_count

    return unread_count(user) or None


class NotificationsConfig(AppConfig):
    name = "changxin.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    navigation = [
        NavEntry(
            "notifications",
            _("Notifications"),
            _("Your inbox"),
            ("notifications:inbox",),
            visible=roles.is_staff_side,
            order=90,
            badge=_unread,
        ),
    ]

    def load_demo(self, stdout=None) -> None:
        """Called by `changxin demo` after the demand demo: notifications for its recent steps."""
        from changxin.notifications.demo import load_demo

        load_demo(stdout)
