"""先丰站 forms: they parse and show errors; the rules are in station/services and demands/services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from changxin.core import texts
from changxin.demands import emergency
from changxin.demands.attachments import MAX_FILES, validate_uploads
from changxin.demands.models import FILED_DEMAND_TYPES, Demand, DemandType, Resolution, Satisfaction, Urgency
from changxin.station import selectors, services


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class DemandFormBase(forms.ModelForm):
    """Parses a demand; never saved itself (services.create_demand stores it)."""

    anonymous = forms.BooleanField(label=_("File anonymously (no name or phone kept)"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)

    class Meta:
        model = Demand
        fields = [
            "demand_type",
            "title",
            "content",
            "street",
            "community",
            "address",
            "category",
            "requester_name",
            "requester_phone",
        ]
        labels = {
            "demand_type": _("Type"),
            "title": _("Title"),
            "content": _("What happened"),
            "street": _("Street / town"),
            "community": _("Community / village"),
            "address": _("Address"),
            "category": _("Category"),
            "requester_name": _("Your name"),
            "requester_phone": _("Your phone"),
        }
        help_texts = {
            "title": _("One line, e.g. “Street lamp broken at the north gate”."),
            "address": _("Street, building or landmark, so the unit can find the place."),
            "category": _("Optional: pick the closest; the centre will check it."),
        }
        widgets = {
            "content": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session if session is not None else {}
        if not self.is_bound and session is not None:
            self.initial.setdefault("token", services.issue_form_token(session))
        self.fields["street"].queryset = selectors.streets()
        # Many people do not know which 街道 their address belongs to: the street is optional when
        # the address says where it is (triage then locates it for the dispatcher).
        self.fields["street"].required = False
        self.fields["street"].help_text = _("Not sure? Leave it empty and give the address.")
        self.fields["street"].widget.attrs.update(
            {
                "hx-get": reverse("station:community-options"),
                "hx-target": f"#{self.auto_id % self.add_prefix('community')}",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        # Any community validates here; "community in the chosen street" is create_demand's rule,
        # and its message lands on the field. The options shown are the chosen street's only.
        community = self.fields["community"]
        community.queryset = selectors.all_communities()
        street_id = self.data.get(self.add_prefix("street")) if self.is_bound else self.initial.get("street")
        community.widget.choices = [("", "---------")] + [
            (unit.pk, unit.name) for unit in selectors.communities_of(street_id)
        ]
        self.fields["category"] = CategoryChoiceField(
            queryset=selectors.leaf_categories(),
            required=False,
            label=self.Meta.labels["category"],
            help_text=self.Meta.help_texts["category"],
        )
        self.fields["requester_phone"].widget.attrs.update(
            {"inputmode": "tel", "autocomplete": "tel", "type": "tel"}
        )
        self.fields["requester_name"].widget.attrs.update({"autocomplete": "name"})
        texts.name_length_limits(self)

    def _mark_invalid(self, name):
        if name in self.fields:
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{self.add_prefix(name)}-errors"

    def add_error(self, field, error):
        super().add_error(field, error)
        if field is not None:
            self._mark_invalid(field)
        elif hasattr(error, "error_dict"):
            for name in error.error_dict:
                self._mark_invalid(name)

    def clean_token(self):
        """The token must be one this browser session was given (services.issue_form_token)."""
        token_id = services.form_token_id(self.session, self.cleaned_data.get("token"))
        if token_id is None:
            raise ValidationError(
                _(
                    "This form has expired or was opened in another browser session. Reload the page and submit again."
                ),
                code="token",
            )
        return token_id

    def location_required(self, cleaned) -> bool:
        """Where it happens is needed to dispatch; see IntakeForm for the answered consultation."""
        return True

    def clean(self):
        cleaned = super().clean()
        if "token" in self.errors:  # a hidden field: say it where the user reads
            for error in self.errors.pop("token"):
                self.add_error(None, error)
        if (
            self.location_required(cleaned)
            and not cleaned.get("street")
            and not (cleaned.get("address") or "").strip()
            and "street" not in self.errors
        ):
            self.add_error(
                "street", _("Choose the street/town, or give the address so we can find the place.")
            )
        for name, message in services.contact_errors(
            cleaned.get("anonymous", False),
            cleaned.get("requester_name", ""),
            cleaned.get("requester_phone", ""),
        ).items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def demand_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields if name in self.cleaned_data}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a ValidationError(error_dict) from the services on the fields it names."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            if name in self.fields:
                self.add_error(name, ValidationError(errors))
            elif name == NON_FIELD_ERRORS:
                self.add_error(None, ValidationError(errors))
            else:  # a field this form does not show: name it in the message
                try:
                    label = Demand._meta.get_field(name).verbose_name
                except FieldDoesNotExist:
                    label = name
                self.add_error(
                    None, ValidationError([texts.labelled(label, m) for e in errors for m in e.messages])
                )


class CitizenDemandForm(DemandFormBase):
    attachments = MultipleFileField(
        label=_("Photos or documents"),
        required=False,
        help_text=_("Up to %(n)s JPEG, PNG, WebP images or PDF documents.") % {"n": MAX_FILES},
    )

    class Meta(DemandFormBase.Meta):
        widgets = {
            "content": forms.Textarea(attrs={"rows": 5}),
            "demand_type": forms.RadioSelect,
        }

    field_order = [
        "demand_type",
        "title",
        "content",
        "street",
        "community",
        "address",
        "category",
        "attachments",
        "requester_name",
        "requester_phone",
        "anonymous",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [c for c in self.fields["demand_type"].choices if c[0] in FILED_DEMAND_TYPES]
        self.fields["demand_type"].choices = choices
        self.fields["attachments"].widget.attrs["accept"] = ".jpg,.jpeg,.png,.webp,.pdf"

    def clean_attachments(self):
        uploads = self.cleaned_data.get("attachments") or []
        try:
            validate_uploads(uploads)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("attachments", exc.messages)) from exc
        return uploads


# Access keys of the intake screen (Alt+key in Chromium, Alt+Shift+key in Firefox).
INTAKE_ACCESS_KEYS = {
    "requester_phone": "p",
    "requester_name": "n",
    "demand_type": "y",
    "urgency": "u",
    "title": "t",
    "content": "c",
    "street": "s",
    "community": "m",
    "address": "a",
    "category": "g",
    "answer": "r",
}


class IntakeForm(DemandFormBase):
    """The operator's call screen: caller first, keyboard first."""

    referral = forms.MultipleChoiceField(
        label=_("Referred the caller to"),
        required=False,
        choices=list(emergency.SERVICES.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    @property
    def emergency(self) -> list[str]:
        """The emergency numbers what the caller said points to (the visible hint)."""
        data = self.data if self.is_bound else {}
        return emergency.referrals_for(data.get("title", ""), data.get("content", ""))

    def demand_data(self) -> dict:
        data = super().demand_data()
        data["emergency_referral"] = ",".join(self.cleaned_data.get("referral") or [])
        return data

    def location_required(self, cleaned) -> bool:
        """A consultation answered at intake is never dispatched: it needs no location."""
        answered = (cleaned.get("answer") or "").strip()
        return not (answered and cleaned.get("demand_type") == DemandType.CONSULT)

    answer = forms.CharField(
        label=_("Answer at intake (consultations)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Filled in: the consultation is answered and closed now instead of being dispatched."),
    )

    class Meta(DemandFormBase.Meta):
        fields = DemandFormBase.Meta.fields + ["urgency"]
        labels = {
            **DemandFormBase.Meta.labels,
            "requester_name": _("Caller name"),
            "requester_phone": _("Caller phone"),
            "urgency": _("Urgency"),
        }

    field_order = [
        "requester_phone",
        "requester_name",
        "anonymous",
        "demand_type",
        "urgency",
        "title",
        "content",
        "street",
        "community",
        "address",
        "category",
        "answer",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["anonymous"].label = _("Caller wants to stay anonymous")
        self.fields["demand_type"].choices = [
            c for c in self.fields["demand_type"].choices if c[0] in FILED_DEMAND_TYPES
        ]
        self.fields["urgency"].choices = [c for c in self.fields["urgency"].choices if c[0]]
        if not self.is_bound:
            self.initial.setdefault("demand_type", DemandType.COMPLAINT)
            self.initial.setdefault("urgency", Urgency.NORMAL)
        for name, key in INTAKE_ACCESS_KEYS.items():
            self.fields[name].widget.attrs["accesskey"] = key
            self.fields[name].access_key = key
        self.fields["requester_phone"].widget.attrs["autofocus"] = True


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class RatingForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Was your matter resolved?"), choices=Resolution.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you with the handling?"),
        choices=[
            (value, label)
            for value, label in Satisfaction.choices
            if value in (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED)
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )


CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_is_valid(code: str) -> bool:
    """A 统一社会信用代码: 18 characters whose last one is the check character of the first 17."""
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31] == code[17]


class EnterpriseDemandForm(CitizenDemandForm):
    """An enterprise user's demand: who the enterprise is and who to contact there.

    Interim, until 先丰港 (port) files enterprise demands against a registered enterprise: the name
    is the demand's `enterprise_name`; the optional credit code is added to the content as a line."""

    enterprise_name = forms.CharField(
        label=_("Enterprise name"),
        required=False,
        max_length=120,
        help_text=_("As on the business licence, so the unit knows whom it serves."),
    )
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        required=False,
        max_length=18,
        help_text=_("Optional: the 18 characters on the business licence."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["anonymous"]  # an enterprise files under its name
        self.fields["requester_name"].label = _("Contact person")
        self.fields["requester_phone"].label = _("Contact phone")
        self.fields["credit_code"].widget.attrs.update(
            {"autocapitalize": "characters", "spellcheck": "false"}
        )
        if not self.is_bound and user is not None:
            self.initial.setdefault("enterprise_name", selectors.last_enterprise_name(user))
            self.initial.setdefault("requester_name", user.full_name)
            self.initial.setdefault("requester_phone", user.phone)

    def clean_credit_code(self):
        code = (self.cleaned_data.get("credit_code") or "").strip().upper().replace(" ", "")
        if code and not credit_code_is_valid(code):
            raise ValidationError(
                _("This is not a valid unified social credit code: check the 18 characters on the licence.")
            )
        return code

    def clean(self):
        self.cleaned_data["anonymous"] = False
        return super().clean()

    def demand_data(self) -> dict:
        data = super().demand_data()
        data["enterprise_name"] = (self.cleaned_data.get("enterprise_name") or "").strip()
        code = self.cleaned_data.get("credit_code")
        if code:
            label = self.fields["credit_code"].label
            data["content"] = f"{data['content']}\n\n{texts.labelled(label, code)}"
        return data
