"""Forms of the staff screens: they parse what a person typed; the rules live in services/workflow.

One form class per workflow action. Every form carries the demand's `version` as a hidden field, so
an action taken on a page that someone else has since changed is refused (optimistic locking).
`ActionForm.service_data()` is the keyword data handed to `services.transition()`.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from changxin.core import roles, texts
from changxin.core.models import UnitKind
from changxin.demands import selectors
from changxin.demands.models import Category, Demand, DisputeReason, Resolution, Satisfaction
from changxin.demands.workflow import TRANSITIONS, WorkflowError

# Actions that need no input beyond pressing the button.
BUTTON_ONLY = frozenset(
    {
        "acknowledge",
        "start",
        "approve_extension",
        "visit_attempt",
        "archive",
        "task_acknowledge",
        "approve_reply",
        "approve_dispute",
        "approve_extension_request",
    }
)

NOTE_LABELS = {
    "answer": _("Answer given at intake"),
    "reply": _("Reply to the requester (what was done, the result and its basis)"),
    "submit_reply": _("Reply to the requester (what was done, the result and its basis)"),
    "submit_dispute": _("Why this demand is not ours"),
    "submit_extension": _("Why more time is needed"),
    "return_review": _("What the officer should change"),
    "supervise": _("What the unit must do, and by when (shown on its workbench)"),
    "return_visit": _("The requester's comment"),
    "contact": _("How and when the requester was contacted"),
    "dispute": _("Why this demand is not ours"),
    "redispatch": _("Reason for re-dispatching"),
    "reject_dispute": _("Why the dispute is rejected"),
    "request_extension": _("Why more time is needed"),
    "deny_extension": _("Why the extension is denied"),
    "whistle": _("What the called-in departments are asked to do"),
    "task_complete": _("What your unit did"),
    "withdraw_task": _("Why the task is withdrawn"),
    "exclude_rating": _("Why the rating is unreasonable"),
    "reopen": _("Why the demand is reopened"),
    "merge": _("Note"),
}


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def grouped_unit_choices(units, *, blank: bool) -> list:
    """Units as <optgroup>s by kind (streets, towns, departments, companies)."""
    labels = dict(UnitKind.choices)
    groups: dict[str, list] = {}
    for unit in units:
        groups.setdefault(unit.kind, []).append((unit.pk, unit.name))
    choices = [("", "---------")] if blank else []
    order = roles.DISPATCHABLE_KINDS
    kinds = sorted(groups, key=lambda kind: order.index(kind) if kind in order else len(order))
    return choices + [(labels.get(kind, kind), groups[kind]) for kind in kinds]


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)

    def __init__(self, *args, action: str, demand: Demand, user, task=None, **kwargs):
        self.action = action
        self.transition = TRANSITIONS[action]
        self.demand = demand
        self.user = user
        self.task = task
        suffix = f"_{task.pk}" if task is not None else ""
        kwargs.setdefault("auto_id", f"id_{action}{suffix}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", demand.version)
        super().__init__(*args, **kwargs)
        if action in BUTTON_ONLY:
            self.fields["note"].widget = forms.HiddenInput()
        else:
            self.fields["note"].label = NOTE_LABELS.get(action, _("Note"))
            self.fields["note"].required = self.transition.needs_note
            if action in ("reply", "answer", "submit_reply"):
                self.fields["note"].widget.attrs["rows"] = 6
        texts.name_length_limits(self)

    @property
    def label(self):
        return self.transition.label

    @property
    def button_only(self) -> bool:
        return self.action in BUTTON_ONLY

    def service_data(self) -> dict:
        return {}

    def add_workflow_error(self, error: WorkflowError) -> bool:
        """Put the service's message on its field; returns False when it belongs at the top."""
        field = error.field
        if field and field in self.fields and not isinstance(self.fields[field].widget, forms.HiddenInput):
            self.add_error(field, str(error.message))
            return True
        self.add_error(None, str(error.message))
        return False


class DispatchForm(ActionForm):
    lead_unit = UnitChoiceField(label=_("Lead unit (主办)"), queryset=selectors.dispatch_targets())
    co_units = UnitMultipleChoiceField(
        label=_("Co-units (协办)"),
        queryset=selectors.dispatch_targets(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    field_order = ["lead_unit", "co_units", "note"]

    def __init__(self, *args, suggested_unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = list(self.fields["lead_unit"].queryset)
        self.fields["lead_unit"].choices = grouped_unit_choices(units, blank=True)
        self.fields["co_units"].choices = grouped_unit_choices(units, blank=False)
        if suggested_unit is not None and not self.is_bound:
            self.initial.setdefault("lead_unit", suggested_unit)

    def service_data(self) -> dict:
        return {"lead_unit": self.cleaned_data["lead_unit"], "co_units": list(self.cleaned_data["co_units"])}


class DisputeForm(ActionForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *DisputeReason.choices])
    field_order = ["reason", "note"]

    def service_data(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class ExtensionForm(ActionForm):
    days = forms.IntegerField(label=_("Extend by (working days)"), min_value=1, max_value=30, initial=5)
    field_order = ["days", "note"]

    def service_data(self) -> dict:
        return {"days": self.cleaned_data["days"]}


class WhistleForm(ActionForm):
    units = UnitMultipleChoiceField(
        label=_("Departments to call in"),
        queryset=selectors.whistle_targets(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    due_days = forms.DecimalField(
        label=_("They report back within (working days)"), min_value=0.5, max_value=15, initial=3
    )
    field_order = ["units", "due_days", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = grouped_unit_choices(self.fields["units"].queryset, blank=False)

    def service_data(self) -> dict:
        return {"units": list(self.cleaned_data["units"]), "due_days": float(self.cleaned_data["due_days"])}


class TaskForm(ActionForm):
    """Report-in / completion of one co-unit or called-in task of the user's unit."""

    task = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.task is not None:
            self.initial.setdefault("task", self.task.pk)

    def service_data(self) -> dict:
        return {"task": self.cleaned_data["task"]}


class ReturnVisitForm(ActionForm):
    resolution = forms.ChoiceField(
        label=_("Was it resolved?"), choices=Resolution.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied is the requester?"),
        choices=[
            (value, label)
            for value, label in Satisfaction.choices
            if value in (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED)
        ],
        widget=forms.RadioSelect,
    )
    field_order = ["resolution", "satisfaction", "note"]

    def service_data(self) -> dict:
        return {
            "resolution": self.cleaned_data["resolution"],
            "satisfaction": self.cleaned_data["satisfaction"],
        }


class MergeForm(ActionForm):
    master = forms.CharField(label=_("Number of the master demand"), max_length=32)
    field_order = ["master", "note"]

    def clean_master(self):
        master = selectors.find_demand_by_number(self.user, self.cleaned_data["master"])
        if master is None:
            raise forms.ValidationError(_("No demand with this number in your scope."))
        return master

    def service_data(self) -> dict:
        return {"master": self.cleaned_data["master"]}


class CategoryPicker(forms.Widget):
    """A searchable three-level category picker instead of a flat ~500-option select: a search box
    asks the server (htmx, `demands:category-search`) for the matching categories — by their names
    and by everyday synonyms — and shows them as radio buttons named like the field."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.urls import reverse
        from django.utils.html import format_html

        from changxin.demands.models import Category

        attrs = attrs or {}
        base = attrs.get("id", f"id_{name}")
        current = Category.objects.filter(pk=value).first() if value not in (None, "") else None
        checked = ""
        if current is not None:
            checked = format_html(
                '<label><input type="radio" name="{}" value="{}" checked> {}</label>',
                name,
                current.pk,
                current.full_name,
            )
        return format_html(
            '<div class="category-picker" id="{base}_picker">'
            '<input type="search" id="{base}" name="{name}_q" autocomplete="off" placeholder="{hint}" '
            'aria-label="{label}" aria-controls="{base}_options" hx-get="{url}?field={name}" '
            'hx-trigger="input changed delay:300ms, search" hx-target="#{base}_options" hx-include="this">'
            '<div class="category-options" id="{base}_options" role="radiogroup" aria-live="polite">'
            "{checked}</div></div>",
            base=base,
            name=name,
            hint=_("Search: a word such as 垃圾, 噪音, 停水"),
            label=_("Search categories"),
            url=reverse("demands:category-search"),
            checked=checked,
        )

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class RecategoriseForm(ActionForm):
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), widget=CategoryPicker
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].initial = self.demand.category_id

    def service_data(self) -> dict:
        return {"category": self.cleaned_data["category"].pk}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        unit = obj.unit.name if obj.unit_id else "—"
        return f"{obj} · {obj.get_role_display()} · {unit}"


class AssignForm(ActionForm):
    """The lead unit hands its task to one person (or, left empty, takes it back)."""

    assignee = PersonChoiceField(label=_("Person"), queryset=None, required=False)
    field_order = ["assignee", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.assignable_people(self.demand)
        self.fields["assignee"].empty_label = _("— the unit (no one in person) —")

    def service_data(self) -> dict:
        return {"assignee": self.cleaned_data["assignee"]}


FORM_CLASSES: dict[str, type[ActionForm]] = {
    "assign": AssignForm,
    "dispatch": DispatchForm,
    "redispatch": DispatchForm,
    "dispute": DisputeForm,
    "submit_dispute": DisputeForm,
    "request_extension": ExtensionForm,
    "submit_extension": ExtensionForm,
    "whistle": WhistleForm,
    "task_acknowledge": TaskForm,
    "task_complete": TaskForm,
    "withdraw_task": TaskForm,
    "return_visit": ReturnVisitForm,
    "merge": MergeForm,
    "recategorise": RecategoriseForm,
}


def form_for(action: str, *args, **kwargs) -> ActionForm:
    form_class = FORM_CLASSES.get(action, ActionForm)
    if form_class is not DispatchForm:
        kwargs.pop("suggested_unit", None)
    return form_class(*args, action=action, **kwargs)
