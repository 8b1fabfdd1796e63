"""先丰港 forms: they parse; the rules live in port/services and demands/services."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.demands.models import Category, DemandType
from changxin.port.models import PackageKind, PackageStatus
from changxin.station.forms import CategoryChoiceField, RatingForm  # noqa: F401 — one rating form

# what an enterprise files: no consultations answered at intake, no praise through this channel
ENTERPRISE_TYPES = [
    (v, label)
    for v, label in DemandType.choices
    if v in ("help", "complaint", "report", "suggestion", "consult")
]


class EnterpriseDemandForm(forms.Form):
    demand_type = forms.ChoiceField(label=_("Type"), choices=ENTERPRISE_TYPES, initial="help")
    title = forms.CharField(label=_("Title"), max_length=120)
    content = forms.CharField(
        label=_("What the enterprise needs"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(level=3, is_active=True),
        required=False,
        help_text=_("Optional: pick the closest; the centre will check it."),
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    def demand_data(self) -> dict:
        data = {k: self.cleaned_data[k] for k in ("demand_type", "title", "content", "category")}
        return {k: v for k, v in data.items() if v}


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Visited on"), widget=forms.DateInput(attrs={"type": "date"}))
    people_met = forms.CharField(label=_("People met"), max_length=200)
    raised = forms.CharField(
        label=_("What was raised"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    need_title = forms.CharField(
        label=_("A need to handle (title)"),
        max_length=120,
        required=False,
        help_text=_("Filled in: the need becomes an enterprise demand, assigned to you, in the same step."),
    )
    need_content = forms.CharField(
        label=_("The need in detail"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())

    def clean(self):
        data = super().clean()
        if data.get("need_title") and not data.get("need_content"):
            self.add_error("need_content", _("Describe the need."))
        return data

    def need(self) -> dict | None:
        if not self.cleaned_data.get("need_title"):
            return None
        return {
            "demand_type": "help",
            "title": self.cleaned_data["need_title"],
            "content": self.cleaned_data["need_content"],
        }


class ProjectMoveForm(forms.Form):
    """A stage move; the reason is required by the machine's guard when a stage is skipped or the
    project moves back (the service refuses, naming the rule)."""

    action = forms.ChoiceField(label=_("Move to"))
    note = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when a stage is skipped or the project moves back."),
    )

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(t.name, t.label) for t in actions]


class PackageItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Package"), choices=PackageKind.choices)
    title = forms.CharField(label=_("Item"), max_length=120)
    amount = forms.DecimalField(
        label=_("Amount (10,000 yuan)"), max_digits=12, decimal_places=2, required=False
    )
    conditions = forms.CharField(label=_("Conditions"), max_length=2000, required=False)


class PackageStatusForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=PackageStatus.choices)
