"""The lifecycles of the 合作方向 matches, the 意见建议 suggestions and the policy grants: instances
of the core workflow machine. Pure: no database; the services in port/cooperation.py,
port/suggestions.py and port/policies.py apply them (row lock, guards, event, audit).

Relations (worked out by each service):
- STAFF: the district centre, or the service manager of an enterprise involved;
- OFFER_SIDE / OTHER_SIDE: an account of the offering enterprise / of the enterprise with the need
  (for a scenario: the staff of the scenario's owner unit, or the centre);
- SUBMITTER: an account of the suggesting enterprise; RESPONDER: staff of the responsible unit;
- ENTERPRISE: an account of the enterprise a grant is for; SYSTEM: the platform itself.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from changxin.core.workflow import Guard, Machine
from changxin.core.workflow import transition as _t
from changxin.port.models import GrantState, MatchState, SuggestionState

STAFF, OFFER_SIDE, OTHER_SIDE, SYSTEM = "staff", "offer_side", "other_side", "system"
SUBMITTER, RESPONDER, CENTRE, MANAGER, ENTERPRISE = (
    "submitter",
    "responder",
    "centre",
    "manager",
    "enterprise",
)

ACCEPT, DECLINE = "accept", "decline"


def _answer_of(match) -> str:
    return match.offer_answer if match.pending_side == OFFER_SIDE else match.other_answer


NOT_ANSWERED = Guard(
    lambda match, now: match.pending_side in (OFFER_SIDE, OTHER_SIDE) and not _answer_of(match),
    "already_answered",
    _("Your side has already answered this match."),
)
BOTH_ACCEPTED = Guard(
    lambda match, now: match.offer_answer == ACCEPT and match.other_answer == ACCEPT,
    "both_sides_must_accept",
    _("Both sides must accept before they are connected."),
)
SIDES = {OFFER_SIDE, OTHER_SIDE}

MATCH = Machine(
    name="match",
    states=MatchState,
    noun=_("match"),
    transitions=[
        _t("send", _("Send to both sides"), [MatchState.PROPOSED], MatchState.SENT, {STAFF} | SIDES),
        _t("accept", _("Accept"), [MatchState.SENT], None, SIDES, False, [NOT_ANSWERED]),
        _t("decline", _("Decline"), [MatchState.SENT], MatchState.DECLINED, SIDES, False, [NOT_ANSWERED]),
        _t(
            "connect", _("Connect"), [MatchState.SENT], MatchState.CONNECTED, {SYSTEM}, False, [BOTH_ACCEPTED]
        ),
    ],
)

UNIT_CHOSEN = Guard(
    lambda suggestion, now: suggestion.responsible_unit_id is not None,
    "unit_required",
    _("Choose the unit responsible for the response."),
    field="unit",
)
RESPONSE_GIVEN = Guard(
    lambda suggestion, now: bool((suggestion.response or "").strip()),
    "response_required",
    _("Write the response."),
    field="note",
)

S = SuggestionState
SUGGESTION = Machine(
    name="suggestion",
    states=SuggestionState,
    noun=_("suggestion"),
    transitions=[
        _t(
            "assign",
            _("Assign a responsible unit"),
            [S.SUBMITTED, S.ASSIGNED],
            S.ASSIGNED,
            {CENTRE, MANAGER},
            False,
            [UNIT_CHOSEN],
        ),
        _t("respond", _("Respond"), [S.ASSIGNED], S.RESPONDED, {RESPONDER, CENTRE}, True, [RESPONSE_GIVEN]),
        _t("close", _("Close"), [S.RESPONDED], S.CLOSED, {SUBMITTER, CENTRE, MANAGER}),
        _t("reopen", _("Not answered: send back"), [S.RESPONDED], S.ASSIGNED, {SUBMITTER}, True),
    ],
)

G = GrantState
AMOUNT_GIVEN = Guard(
    lambda grant, now: grant.amount is not None and grant.amount > 0,
    "amount_required",
    _("Give the amount (10,000 yuan)."),
    field="amount",
)
GRANT = Machine(
    name="policy_grant",
    states=GrantState,
    noun=_("policy grant"),
    transitions=[
        _t("notify", _("Notify the enterprise"), [G.MATCHED], G.NOTIFIED, {CENTRE, SYSTEM}),
        _t("apply", _("Apply"), [G.NOTIFIED], G.APPLIED, {ENTERPRISE}),
        _t("grant", _("Grant"), [G.NOTIFIED, G.APPLIED], G.GRANTED, {CENTRE, SYSTEM}, False, [AMOUNT_GIVEN]),
        _t("pay", _("Record the payment"), [G.GRANTED], G.PAID, {CENTRE}, False, [AMOUNT_GIVEN]),
    ],
)
