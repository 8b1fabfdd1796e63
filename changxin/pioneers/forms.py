from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.pioneers.models import RecordKind


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
