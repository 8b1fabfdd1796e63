from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.pioneers.models import RecordKind, VanguardKind


class StepForm(forms.Form):
    step = forms.CharField(label=_("step"), max_length=32)
    on = forms.DateField(label=_("date"), initial=timezone.localdate)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RecordForm(forms.Form):
    kind = forms.ChoiceField(label=_("record"), choices=RecordKind.choices)
    on = forms.DateField(label=_("date"), initial=timezone.localdate)
    until = forms.DateField(label=_("until"), required=False)
    sponsor = forms.IntegerField(label=_("sponsor"), required=False, widget=forms.Select)
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class TakeForm(forms.Form):
    demand = forms.IntegerField()


class AdjustmentForm(forms.Form):
    points = forms.DecimalField(label=_("points"), max_digits=6, decimal_places=1)
    kind = forms.ChoiceField(label=_("vanguard kind"), choices=VanguardKind.choices)
    reason = forms.CharField(label=_("reason"), max_length=200)
