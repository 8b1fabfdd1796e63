"""Forms of 先锋岗, 先锋者荣 and 先锋者说 (the services check every rule; these only parse)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.pioneers.posts import members_of, places_of

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _member_choices(organisation):
    return [(m.pk, m.name) for m in members_of(organisation)]


class PostForm(forms.Form):
    name = forms.CharField(label=_("post"), max_length=80)
    place = forms.TypedChoiceField(label=_("place"), coerce=int)
    window = forms.CharField(label=_("station or window"), max_length=80, required=False)
    members = forms.TypedMultipleChoiceField(
        label=_("members on duty"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_on = forms.DateField(label=_("from"), initial=timezone.localdate, widget=DATE)
    ends_on = forms.DateField(label=_("until"), required=False, widget=DATE)

    def __init__(self, organisation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(u.pk, u.name) for u in places_of(organisation)]
        self.fields["members"].choices = _member_choices(organisation)


class PostChangeForm(forms.Form):
    members = forms.TypedMultipleChoiceField(
        label=_("members on duty"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_on = forms.DateField(label=_("from"), widget=DATE)
    ends_on = forms.DateField(label=_("until"), required=False, widget=DATE)

    def __init__(self, organisation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = _member_choices(organisation)


class NominateForm(forms.Form):
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("honour"), max_length=60, required=False)
    citation = forms.CharField(label=_("citation"), max_length=300, required=False)


class HonourStepForm(forms.Form):
    action = forms.ChoiceField(label=_("action"), choices=[(a, a) for a in ("approve", "publish", "reject")])
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    version = forms.IntegerField(min_value=0, max_value=2**31)


class SessionForm(forms.Form):
    held_on = forms.DateField(label=_("held on"), initial=timezone.localdate, widget=DATE)
    topic = forms.CharField(label=_("topic"), max_length=200)
    speakers = forms.TypedMultipleChoiceField(
        label=_("speakers"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    attendees = forms.TypedMultipleChoiceField(
        label=_("members present"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    summary = forms.CharField(label=_("summary"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, organisation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _member_choices(organisation)
        self.fields["speakers"].choices = choices
        self.fields["attendees"].choices = choices
