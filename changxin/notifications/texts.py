"""Every text this app sends, with named placeholders, rendered in the platform language.

Texts are stored rendered (the inbox and the outbox show what was sent) together with their
parameters, so a notification can be rendered again in another language later.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from changxin.notifications.models import MessageKind, NotificationKind

# kind → (title, body)
INBOX = {
    NotificationKind.DISPATCHED: (
        _("New demand %(number)s for %(unit)s"),
        _("%(title)s · contact by %(contact_due)s, finish by %(finish_due)s"),
    ),
    "co_dispatched": (
        _("New demand %(number)s: %(unit)s is a co-unit"),
        _("%(title)s · lead unit %(lead_unit)s, finish by %(finish_due)s"),
    ),
    NotificationKind.ASSIGNED: (
        _("Demand %(number)s is assigned to you"),
        _("%(title)s"),
    ),
    NotificationKind.CALLED_IN: (
        _("%(caller)s calls %(unit)s in on demand %(number)s"),
        _("%(title)s · report in by %(due)s"),
    ),
    NotificationKind.DISPUTE_UPHELD: (
        _("Dispute upheld: demand %(number)s was re-dispatched to %(new_unit)s"),
        _("%(title)s"),
    ),
    NotificationKind.DISPUTE_REJECTED: (
        _("Dispute rejected: demand %(number)s stays with %(unit)s"),
        _("%(title)s · the deadlines keep running"),
    ),
    NotificationKind.SUPERVISED: (
        _("Demand %(number)s is supervised (督办)"),
        _("%(title)s · missed deadline: %(deadline)s"),
    ),
    NotificationKind.EXTENSION_APPROVED: (
        _("Extension approved for demand %(number)s"),
        _("%(title)s · %(days)s more working days, finish by %(finish_due)s"),
    ),
    NotificationKind.EXTENSION_DENIED: (
        _("Extension denied for demand %(number)s"),
        _("%(title)s · finish by %(finish_due)s"),
    ),
    NotificationKind.NEARLY_OVERDUE: (
        _("Demand %(number)s is nearly overdue"),
        _("%(title)s · %(deadline)s deadline %(due)s"),
    ),
    NotificationKind.OVERDUE: (
        _("Demand %(number)s is overdue"),
        _("%(title)s · %(deadline)s deadline was %(due)s"),
    ),
}

DEADLINES = {"contact": pgettext_lazy("deadline", "contact"), "finish": pgettext_lazy("deadline", "finish")}

# kind → (e-mail subject, text)
REQUESTER = {
    MessageKind.ACCEPTED: (
        _("Your demand %(number)s has been accepted"),
        _(
            "[Changxin Pioneer] Your demand has been accepted. Number %(number)s, tracking code "
            "%(code)s. Follow its progress at %(url)s"
        ),
    ),
    MessageKind.REPLIED: (
        _("Your demand %(number)s has been answered"),
        _(
            "[Changxin Pioneer] Your demand %(number)s has been answered. Please tell us how it was "
            "handled: %(url)s"
        ),
    ),
}


def plain(params: dict | None) -> dict[str, str]:
    """Parameters as stored: strings, translated ones in the platform language."""
    with translation.override(settings.LANGUAGE_CODE):
        return {k: str(v) for k, v in (params or {}).items()}


def render(text, params: dict | None = None) -> str:
    """A (lazy) text with its named parameters, in the platform language (zh-hans)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(text)
        return text % plain(params) if params else text


def when(value) -> str:
    """A deadline as people read it: local time, to the minute."""
    if not value:
        return "—"
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
