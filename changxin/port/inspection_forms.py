"""一码检查 forms: they parse; the rules live in port/inspections (the machine's guards)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import roles
from changxin.core.models import User
from changxin.port import uscc
from changxin.port.models import Enterprise, Result, Trigger

BASIS_CHOICES = [("plan", _("Annual plan"))] + list(Trigger.choices)


class InspectorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.username


class RegisterForm(forms.Form):
    credit_code = forms.CharField(label=_("Enterprise (unified social credit code)"), max_length=40)
    inspectors = InspectorChoiceField(
        label=_("Inspectors"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    basis = forms.ChoiceField(
        label=_("Plan or trigger"), choices=BASIS_CHOICES, initial="plan", widget=forms.RadioSelect
    )
    trigger_ref = forms.CharField(
        label=_("Trigger source"),
        max_length=60,
        required=False,
        help_text=_("A complaint: the demand number. A referral or risk signal: the document number."),
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    items = forms.CharField(label=_("Inspection items"), max_length=300)
    planned_from = forms.DateTimeField(
        label=_("Planned from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    planned_until = forms.DateTimeField(
        label=_("Planned until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        unit_id = getattr(user, "unit_id", None)
        self.fields["inspectors"].queryset = User.objects.filter(
            unit_id=unit_id, role=roles.Role.INSPECTOR, is_active=True
        ).order_by("full_name", "username")
        if not self.is_bound and user is not None:
            self.initial.setdefault("inspectors", [user.pk])
            start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            self.initial.setdefault("planned_from", start.strftime("%Y-%m-%dT%H:%M"))
            self.initial.setdefault(
                "planned_until", (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
            )

    def clean_credit_code(self):
        code = uscc.normalise(self.cleaned_data["credit_code"])
        reason = uscc.problem(code)
        if reason:
            raise forms.ValidationError(reason)
        enterprise = Enterprise.objects.filter(credit_code=code, is_active=True).first()
        if enterprise is None:
            raise forms.ValidationError(_("No registered enterprise has this code."))
        self.enterprise = enterprise
        return code

    def _in_range(self, name):
        value = self.cleaned_data[name]
        if not 2000 <= value.year <= 2100:
            raise forms.ValidationError(_("Enter a date between 2000 and 2100."))
        return value

    def clean_planned_from(self):
        return self._in_range("planned_from")

    def clean_planned_until(self):
        return self._in_range("planned_until")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        basis = data["basis"]
        return {
            "inspectors": list(data["inspectors"]),
            "legal_basis": data["legal_basis"],
            "items": data["items"],
            "planned_from": data["planned_from"],
            "planned_until": data["planned_until"],
            "trigger": "" if basis == "plan" else basis,
            "trigger_ref": data["trigger_ref"] if basis != "plan" else "",
        }


class ResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=Result.choices, widget=forms.RadioSelect)
    findings = forms.CharField(
        label=_("Findings"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    needs_rectification = forms.BooleanField(label=_("Needs rectification (整改)"), required=False)


class ActionForm(forms.Form):
    action = forms.CharField(max_length=30)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class InspectionRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)


class PlanUploadForm(forms.Form):
    file = forms.FileField(label=_("Plan file (CSV or Excel)"))
