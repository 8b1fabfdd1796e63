from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import texts
from changxin.pioneers.models import DuesCategory, MeetingKind


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=MeetingKind.choices)
    held_on = forms.DateField(
        label=_("held on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    topic = forms.CharField(label=_("topic"), max_length=200)
    minutes = forms.CharField(label=_("minutes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        texts.name_length_limits(self)


class DuesBaseForm(forms.Form):
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    category = forms.ChoiceField(label=_("category"), choices=DuesCategory.choices)
    monthly_income = forms.DecimalField(
        label=_("after-tax monthly income"), max_digits=10, decimal_places=2, min_value=0, required=False
    )


class DuesPaymentForm(forms.Form):
    month = forms.CharField(label=_("month"), max_length=7)
    paid_on = forms.DateField(label=_("paid on"), required=False)


class TransferForm(forms.Form):
    to_organisation = forms.IntegerField(label=_("to"), widget=forms.Select)
    on = forms.DateField(label=_("requested on"), initial=timezone.localdate)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class TransferStepForm(forms.Form):
    step = forms.CharField(label=_("step"), max_length=32)
    on = forms.DateField(label=_("date"), initial=timezone.localdate)
    letter_number = forms.CharField(label=_("letter number"), max_length=40, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ActivityForm(forms.Form):
    organisation = forms.IntegerField(label=_("organisation"), widget=forms.Select)
    title = forms.CharField(label=_("title"), max_length=120)
    place = forms.CharField(label=_("place"), max_length=120)
    starts_at = forms.DateTimeField(
        label=_("starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    capacity = forms.IntegerField(label=_("capacity"), min_value=1, max_value=10000)
    hours = forms.DecimalField(
        label=_("volunteer hours credited"), max_digits=4, decimal_places=1, required=False, min_value=0
    )
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        texts.name_length_limits(self)
