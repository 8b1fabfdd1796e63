"""Forms of 合作方向, 意见建议 and policies: they parse; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from changxin.core.models import OrgUnit
from changxin.port.models import CooperationKind, Flag, Size, Zone


class CooperationItemForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=None)
    kind = forms.ChoiceField(
        label=_("Offer or need"), choices=CooperationKind.choices, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("Title"), max_length=120)
    field = forms.CharField(
        label=_("Field"), max_length=60, required=False, help_text=_("e.g. 人工智能, 低空技术, 智能医工")
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you offer or seek: products, technology, capacity, the scenario in mind."),
    )

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        if len(enterprises) == 1:
            self.fields["enterprise"].initial = enterprises[0].pk
            self.fields["enterprise"].widget = forms.HiddenInput()

    def item_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("kind", "title", "field", "description")}


class ScenarioForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    field = forms.CharField(label=_("Field"), max_length=60, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=3000, widget=forms.Textarea(attrs={"rows": 5})
    )
    owner_unit = forms.ModelChoiceField(label=_("Owner unit"), queryset=OrgUnit.objects.none())
    deadline = forms.DateField(
        label=_("Deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = units


class MatchActionForm(forms.Form):
    action = forms.ChoiceField(choices=())
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def __init__(self, *args, actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a.name, a.label) for a in actions]


class SuggestionForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=None)
    title = forms.CharField(label=_("Title"), max_length=120)
    content = forms.CharField(
        label=_("Your opinion or suggestion"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        if len(enterprises) == 1:
            self.fields["enterprise"].initial = enterprises[0].pk
            self.fields["enterprise"].widget = forms.HiddenInput()


class SuggestionActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=())
    unit = forms.ModelChoiceField(
        label=_("Responsible unit"), queryset=OrgUnit.objects.none(), required=False
    )
    note = forms.CharField(
        label=_("Response or note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, actions, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a.name, a.label) for a in actions]
        self.fields["unit"].queryset = units


class PolicyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160)
    issuer = forms.CharField(label=_("Issuer"), max_length=120)
    summary = forms.CharField(
        label=_("Summary"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    industries = forms.CharField(
        label=_("Industries"), max_length=300, required=False, help_text=_("Separated by commas; empty: any.")
    )
    sizes = forms.MultipleChoiceField(
        label=_("Sizes"), choices=Size.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    zones = forms.MultipleChoiceField(
        label=_("Functional zones"), choices=Zone.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    flags = forms.MultipleChoiceField(
        label=_("Required flags"), choices=Flag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = forms.DecimalField(
        label=_("Amount per enterprise (10,000 yuan)"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    min_employees = forms.IntegerField(
        label=_("Employees at least"), min_value=0, max_value=10_000_000, required=False
    )
    max_employees = forms.IntegerField(
        label=_("Employees at most"), min_value=0, max_value=10_000_000, required=False
    )
    min_revenue = forms.DecimalField(
        label=_("Annual revenue at least (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    max_revenue = forms.DecimalField(
        label=_("Annual revenue at most (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    without_application = forms.BooleanField(
        label=_("Granted without application (免申即享)"), required=False, initial=True
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def policy_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["industries"] = [
            s.strip() for s in data["industries"].replace("，", ",").split(",") if s.strip()
        ]
        return data


class GrantActionForm(forms.Form):
    grant = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    action = forms.ChoiceField(
        choices=[("notify", "notify"), ("apply", "apply"), ("grant", "grant"), ("pay", "pay")]
    )
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
