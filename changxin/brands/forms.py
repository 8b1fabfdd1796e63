import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from changxin.brands.models import BrandField
from changxin.core import roles
from changxin.core.models import OrgUnit
from changxin.demands.models import Category


def _in_range(day: dt.date | None) -> dt.date | None:
    if day is not None and not (2000 <= day.year <= 2100):
        raise ValidationError(_("Give a date between %(a)s and %(b)s.") % {"a": 2000, "b": 2100})
    return day


class DateInput(forms.DateInput):
    input_type = "date"


class BrandForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("owner organisation"), queryset=None)
    name = forms.CharField(label=_("name"), max_length=60)
    field = forms.ChoiceField(label=_("field"), choices=BrandField.choices)
    street = forms.ModelChoiceField(
        label=_("street/town"),
        queryset=OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS, is_active=True).order_by("code"),
        required=False,
        help_text=_("Leave empty for the street or town of the owner organisation."),
    )
    slogan = forms.CharField(label=_("slogan"), max_length=80, required=False)
    description = forms.CharField(
        label=_("description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        from changxin.pioneers.models import PartyOrganisation

        self.fields["owner"].queryset = PartyOrganisation.objects.filter(pk__in=[o.pk for o in organisations])


class CaseForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=80)
    summary = forms.CharField(
        label=_("what was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    area = forms.ModelChoiceField(label=_("area"), queryset=None)
    category = forms.ModelChoiceField(
        label=_("demand category"),
        queryset=Category.objects.filter(level__lte=2).order_by("level", "name"),
        required=False,
        help_text=_("Optional: count only this category's demands (and those below it)."),
    )
    starts_on = forms.DateField(label=_("starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("ends on"), widget=DateInput)

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = OrgUnit.objects.filter(
            kind__in=roles.PLACE_KINDS, path__startswith=brand.street.path, is_active=True
        ).order_by("path")

    def clean_starts_on(self):
        return _in_range(self.cleaned_data.get("starts_on"))

    def clean_ends_on(self):
        return _in_range(self.cleaned_data.get("ends_on"))
