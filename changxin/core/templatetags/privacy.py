"""`{% load privacy %}{{ text|scrub_contacts }}`: free text on a public page, contacts masked."""

from django import template

from changxin.core.privacy import scrub_contacts as _scrub_contacts

register = template.Library()


@register.filter
def scrub_contacts(text):
    return _scrub_contacts(str(text) if text is not None else "")
