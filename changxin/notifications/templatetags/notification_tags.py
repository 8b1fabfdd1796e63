from django import template

from changxin.notifications.services import unread_count as count_unread

register = template.Library()


@register.simple_tag
def unread_count(user) -> int:
    """{% unread_count user as n %}: the user's unread notifications."""
    return count_unread(user)
