"""Small pieces of Chinese typography the UI shares: the label colon, joined clauses, actor names.

In Chinese text a label takes the full-width colon （：） and clauses are separated by （；）; the
separators are translated, so the English UI keeps ": " and "; ".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

# Events written by the system carry a fixed English `actor_name` (demands/services, importer,
# audit); they are translated where they are shown.
ACTOR_NAMES = {
    "requester": _("Requester"),
    "system": _("System"),
    "import": _("Data import"),
    "anonymous": _("Anonymous"),
}

_TRAILING = "。.;；,，、 "


def colon() -> str:
    return pgettext("label separator", ": ")


def labelled(label, value) -> str:
    return f"{label}{colon()}{value}"


def join_clauses(items: Iterable) -> str:
    """Clauses joined with the list separator, without doubled punctuation ("。; " never appears)."""
    parts = [str(item).strip().rstrip(_TRAILING) for item in items]
    return pgettext("clause separator", "; ").join(p for p in parts if p)


def actor_label(actor_name: str) -> str:
    name = ACTOR_NAMES.get(actor_name)
    return str(name) if name is not None else actor_name


class LabelledMaxLengthValidator(MaxLengthValidator):
    """Django's stock "Ensure this value has at most…" names neither the field nor the limit clearly."""

    message = _("%(label)s can have at most %(limit_value)d characters; it now has %(show_value)d.")

    def __init__(self, limit_value, label):
        super().__init__(limit_value)
        self.label = label

    def __call__(self, value):
        cleaned = self.clean(value)
        if self.compare(cleaned, self.limit_value):
            params = {
                "limit_value": self.limit_value,
                "show_value": cleaned,
                "value": value,
                "label": self.label,
            }
            raise ValidationError(self.message, code=self.code, params=params)


def name_length_limits(form) -> None:
    """Give every length-limited text field of `form` a message naming it and its limit, and a
    character counter instead of the browser's `maxlength`, which cuts pasted text silently
    (static/js/forms.js shows the count and marks the field when it is over)."""
    for field in form.fields.values():
        limit = getattr(field, "max_length", None)
        if not limit or field.widget.is_hidden:
            continue
        label = field.label or ""
        field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)] + [
            LabelledMaxLengthValidator(limit, label)
        ]
        field.widget.attrs.pop("maxlength", None)
        field.widget.attrs["data-maxlength"] = limit
        # forms.js fills in {count} and {over}; the page is rendered in the user's language
        field.widget.attrs["data-counter-text"] = gettext("{count} / {limit} characters").replace(
            "{limit}", str(limit)
        )
        field.widget.attrs["data-over-text"] = gettext(
            "{over} characters over the limit of {limit}: shorten the text before sending."
        ).replace("{limit}", str(limit))
