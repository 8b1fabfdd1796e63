"""先丰站 writes: citizen submission, hotline intake, and the requester's rating by tracking code.

Every write goes through `changxin.demands.services` (`create_demand`, `transition`); this module
only adds the portal's own rules (a contact is needed unless anonymous; only consultations are
answered at intake; who the tracking-code holder acts as).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from changxin.core import roles
from changxin.demands import services as demand_services
from changxin.demands.models import Channel, Demand, DemandType, RequesterKind
from changxin.demands.workflow import WorkflowError
from changxin.station import selectors

IDEMPOTENCY_PREFIX = "station:"


def can_take_calls(user) -> bool:
    """Hotline operators/dispatchers (and district admins): the centre takes calls; nobody else."""
    return roles.is_centre(user)


# --- the form's submission token, tied to the browser session --------------------------------

FORM_KEY_SESSION = "station_form_key"


def _form_signer(session) -> signing.Signer | None:
    key = session.get(FORM_KEY_SESSION)
    return signing.Signer(salt=f"changxin.station.form:{key}") if key else None


def issue_form_token(session) -> str:
    """A new form's hidden token: a random id signed for this browser session (a per-session key
    kept in the session, so it survives logging in). Resubmitting the same form is idempotent; the
    token is worth nothing in another session."""
    if not session.get(FORM_KEY_SESSION):
        session[FORM_KEY_SESSION] = secrets.token_hex(16)
    return _form_signer(session).sign(uuid.uuid4().hex)


def form_token_id(session, token: str | None) -> str | None:
    """The id inside a token this session issued; None for a token of another session, forged or old."""
    signer = _form_signer(session)
    if signer is None or not token:
        return None
    try:
        value = signer.unsign(str(token))
    except signing.BadSignature:
        return None
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def idempotency_key(token: uuid.UUID | str | None) -> str | None:
    """The key stored on the demand for a form's hidden token (namespaced away from API keys)."""
    return f"{IDEMPOTENCY_PREFIX}{token}" if token else None


def contact_errors(anonymous: bool, name: str, phone: str) -> dict[str, str]:
    """A named requester must leave a name and a phone, so the unit can contact them (响应)."""
    if anonymous:
        return {}
    errors = {}
    if not (name or "").strip():
        errors["requester_name"] = _("Enter your name, or tick “anonymous”.")
    if not (phone or "").strip():
        errors["requester_phone"] = _(
            "Enter a phone number so the unit can contact you, or tick “anonymous”."
        )
    return errors


def _requester_fields(data: dict[str, Any], anonymous: bool, actor) -> dict[str, Any]:
    data = dict(data)
    errors = contact_errors(anonymous, data.get("requester_name", ""), data.get("requester_phone", ""))
    if errors:
        raise ValidationError(errors)
    if anonymous:
        data["requester_kind"] = RequesterKind.ANONYMOUS
        data["requester_name"] = data["requester_phone"] = ""
    elif getattr(actor, "is_authenticated", False) and actor.role == roles.Role.ENTERPRISE:
        data["requester_kind"] = RequesterKind.ENTERPRISE
    else:
        data["requester_kind"] = RequesterKind.PERSON
    return data


def submit_demand(
    data: dict[str, Any], *, actor, anonymous: bool, token=None, attachments=()
) -> tuple[Demand, bool]:
    """A demand filed on the web portal. Returns (demand, created); a resubmitted token returns the first."""
    data = _requester_fields(data, anonymous, actor)
    data["channel"] = Channel.WEB
    return demand_services.create_demand(
        data, actor=actor, idempotency_key=idempotency_key(token), attachments=attachments
    )


def intake_call(
    data: dict[str, Any], *, actor, anonymous: bool, token=None, answer: str = ""
) -> tuple[Demand, bool]:
    """A hotline call entered by an operator; a consultation may be answered at once.

    Creation and the answer are one transaction: if the answer is refused, no demand is stored.
    """
    if not can_take_calls(actor):
        raise WorkflowError("not_allowed", _("Only hotline operators take calls."))
    answer = (answer or "").strip()
    if answer and data.get("demand_type") != DemandType.CONSULT:
        raise ValidationError({"answer": _("Only a consultation can be answered at intake.")})
    data = _requester_fields(data, anonymous, actor)
    data["channel"] = Channel.HOTLINE
    with transaction.atomic():
        demand, created = demand_services.create_demand(
            data, actor=actor, idempotency_key=idempotency_key(token)
        )
        if created and answer:
            try:
                demand_services.transition(demand, "answer", actor, note=answer)
            except WorkflowError as exc:
                raise ValidationError({"answer": exc.message}) from exc
    return demand, created


# --- the requester's rating, by tracking code ---------------------------------------------------


def can_rate(demand: Demand, user=None) -> bool:
    """Whether the holder of the tracking code may rate the outcome now — the workflow machine
    decides (the requester's "return_visit"), as it does for every screen and the API."""
    return demand_services.may(user, demand, "return_visit", requester_code=demand.tracking_code)


def rate_by_tracking_code(
    code: str, *, resolution: str, satisfaction: str, comment: str = "", user=None
) -> Demand:
    """The holder of a tracking code says whether the matter was resolved and how satisfied they are.

    Works exactly once, and only while the demand is REPLIED (the workflow table decides). The code
    proves the requester (`requester_code`), with or without an account. Raises LookupError for an
    unknown code and WorkflowError (with .field) for anything the workflow refuses.
    """
    demand = selectors.find_by_tracking_code(code)
    if demand is None:
        raise LookupError(code)
    actor = user if user is not None and getattr(user, "is_authenticated", False) else AnonymousUser()
    return demand_services.transition(
        demand,
        "return_visit",
        actor,
        requester_code=demand.tracking_code,
        note=_("Rated on the web portal by the holder of the tracking code."),
        resolution=resolution,
        satisfaction=satisfaction,
        comment=comment,
    )
