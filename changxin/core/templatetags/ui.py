"""Template helpers for Chinese typography: {% colon %}, |clauses, |actor (see core/texts.py)."""

from django import template

from changxin.core import texts

register = template.Library()


@register.simple_tag
def colon():
    return texts.colon()


@register.filter
def clauses(items):
    return texts.join_clauses(items or [])


@register.filter
def actor(actor_name):
    return texts.actor_label(actor_name or "system")
