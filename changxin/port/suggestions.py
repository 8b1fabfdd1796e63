"""意见建议清单: an enterprise's suggestion gets a responsible unit, a response and a response
deadline in working days (the work calendar the demand deadlines use, seeded from the
chinese-calendar holidays). Lifecycle `port.machines.SUGGESTION`: submitted → assigned → responded
→ closed (the enterprise may send an unanswered response back). `flag_overdue` (a periodic job)
marks the ones past their deadline and tells the responsible unit and the manager once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import audit, roles, workcalendar
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.scope import restrict
from changxin.core.workflow import WorkflowError
from changxin.port.machines import CENTRE, MANAGER, RESPONDER, SUBMITTER, SUGGESTION
from changxin.port.models import Enterprise, Suggestion, SuggestionEvent, SuggestionState

DEFAULT_RESPONSE_DAYS = 10  # working days from assignment; settings.CHANGXIN_PORT_SUGGESTION_DAYS


def response_days() -> int:
    return int(getattr(settings, "CHANGXIN_PORT_SUGGESTION_DAYS", DEFAULT_RESPONSE_DAYS))


def suggestions_visible_to(user):
    return restrict(Suggestion.objects.select_related("enterprise", "responsible_unit"), user)


def may_submit(user, enterprise: Enterprise) -> bool:
    return (
        roles.is_active(user)
        and getattr(user, "role", None) == roles.Role.ENTERPRISE
        and enterprise.is_active
        and enterprise.members.filter(pk=user.pk).exists()
    )


def relations(user, suggestion: Suggestion) -> set[str]:
    if not roles.is_active(user) or roles.is_read_only(user):
        return set()
    rels = set()
    if roles.is_centre(user):
        rels.add(CENTRE)
    if suggestion.enterprise.manager_id == user.pk:
        rels.add(MANAGER)
    if (
        suggestion.responsible_unit_id
        and roles.is_unit_staff(user)
        and roles.covers(user, suggestion.responsible_unit)
    ):
        rels.add(RESPONDER)
    if may_submit(user, suggestion.enterprise):
        rels.add(SUBMITTER)
    return rels


def actions(user, suggestion: Suggestion):
    """What to offer: the table's moves for this user (the form supplies unit/response, so the
    data guards are applied by `move`, not here)."""
    return SUGGESTION.offered_by_table(suggestion.state, relations(user, suggestion))


def responsible_units():
    """Units a suggestion may be assigned to: streets/towns and departments (the dispatchable units)."""
    return OrgUnit.objects.filter(kind__in=roles.DISPATCHABLE_KINDS, is_active=True).order_by("kind", "name")


def _event(suggestion, actor, action, previous, *, note="", at=None, **data):
    return SuggestionEvent.objects.create(
        suggestion=suggestion,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) else "system")[:150],
        action=action,
        from_state=previous,
        to_state=suggestion.state,
        note=note,
        data=data,
    )


@transaction.atomic
def submit(
    enterprise: Enterprise, data: dict[str, Any], *, actor, now: dt.datetime | None = None
) -> Suggestion:
    from changxin.port.services import record_event

    if not may_submit(actor, enterprise):
        raise PermissionDenied(_("Only the enterprise's own accounts submit its suggestions."))
    now = now or timezone.now()
    suggestion = Suggestion(
        enterprise=enterprise,
        title=data.get("title", ""),
        content=data.get("content", ""),
        submitted_by=actor,
        submitted_at=now,
    )
    suggestion.full_clean()
    suggestion.save()
    _event(suggestion, actor, "submit", "", at=now)
    record_event(enterprise, actor, "suggestion", suggestion=suggestion.pk, title=suggestion.title)
    audit.record(actor, AuditAction.CREATE, suggestion, detail="port.suggestion")
    if enterprise.manager_id:
        from changxin.notifications.services import notify

        notify(
            [enterprise.manager_id],
            "port.suggestion",
            gettext_lazy("New suggestion from %(name)s"),
            gettext_lazy("%(title)s"),
            url=reverse("port:suggestion", args=[suggestion.pk]),
            key=f"suggestion:{suggestion.pk}:submit",
            params={"name": enterprise.name, "title": suggestion.title},
        )
    return suggestion


def move(
    suggestion: Suggestion,
    name: str,
    actor,
    *,
    unit: OrgUnit | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    expected_version=None,
) -> Suggestion:
    """assign (with `unit`) / respond (the response in `note`) / close / reopen."""
    from changxin.notifications.services import notify, unit_staff

    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > 5000:
        raise WorkflowError("note_too_long", _("At most 5000 characters."), "note")
    with transaction.atomic():
        locked = (
            Suggestion.objects.select_for_update(of=("self",))
            .select_related("enterprise")
            .get(pk=suggestion.pk)
        )
        if expected_version not in (None, "") and str(locked.version) != str(expected_version):
            raise WorkflowError(
                "stale", _("Someone else changed this suggestion a moment ago. Reload it and try again.")
            )
        previous = locked.state
        rels = relations(actor, locked)
        SUGGESTION.check_table(name, previous, rels)
        if name == "assign":
            if unit is not None and unit.kind not in roles.DISPATCHABLE_KINDS:
                raise ValidationError({"unit": _("Choose a street, town or department.")})
            locked.responsible_unit = unit
        if name == "respond":
            locked.response = note
        step = SUGGESTION.check(name, locked, rels, now)
        if step.needs_note and not note:
            raise WorkflowError("note_required", _("Write a note."), "note")
        locked.state = step.target
        if name == "assign":
            locked.response_due = workcalendar.add_working_time(now, days=response_days()).value
            locked.is_overdue = False
        if name == "respond":
            locked.responded_at = now
            locked.is_overdue = bool(locked.response_due and now > locked.response_due)
        if name == "reopen":
            locked.response_due = workcalendar.add_working_time(now, days=response_days()).value
            locked.responded_at = None
        locked.version += 1
        locked.save()
        event = _event(
            locked,
            actor,
            name,
            previous,
            note=note,
            at=now,
            unit=getattr(locked.responsible_unit, "pk", None),
        )
        audit.record(
            actor, AuditAction.STATE, locked, detail=f"suggestion {name}: {previous} → {locked.state}"
        )
        url = reverse("port:suggestion", args=[locked.pk])
        params = {"title": locked.title, "name": locked.enterprise.name}
        if name in ("assign", "reopen"):
            notify(
                unit_staff([locked.responsible_unit_id]),
                "port.suggestion_assigned",
                gettext_lazy("Suggestion to answer: %(title)s"),
                gettext_lazy("From %(name)s."),
                url=url,
                key=f"suggestion:{locked.pk}:{event.pk}",
                params=params,
                exclude=[actor.pk],
            )
        if name == "respond":
            notify(
                list(locked.enterprise.members.values_list("pk", flat=True)),
                "port.suggestion_responded",
                gettext_lazy("Your suggestion was answered: %(title)s"),
                "",
                url=url,
                key=f"suggestion:{locked.pk}:{event.pk}",
                params=params,
            )
    suggestion.refresh_from_db()
    return locked


@transaction.atomic
def flag_overdue(now: dt.datetime | None = None) -> int:
    """Mark assigned suggestions past their response deadline (and tell the unit and the manager,
    once per deadline). Idempotent."""
    from changxin.notifications.services import notify, unit_staff

    now = now or timezone.now()
    late = list(
        Suggestion.objects.select_for_update()
        .filter(state=SuggestionState.ASSIGNED, is_overdue=False, response_due__lt=now)
        .select_related("enterprise")
    )
    for suggestion in late:
        suggestion.is_overdue = True
        suggestion.save(update_fields=["is_overdue"])
        _event(suggestion, None, "overdue", suggestion.state, at=now, due=suggestion.response_due.isoformat())
        recipients = [u.pk for u in unit_staff([suggestion.responsible_unit_id])]
        if suggestion.enterprise.manager_id:
            recipients.append(suggestion.enterprise.manager_id)
        notify(
            recipients,
            "port.suggestion_overdue",
            gettext_lazy("Suggestion overdue: %(title)s"),
            gettext_lazy("The response was due on %(due)s."),
            url=reverse("port:suggestion", args=[suggestion.pk]),
            key=f"suggestion:{suggestion.pk}:overdue:{suggestion.response_due.isoformat()}",
            params={
                "title": suggestion.title,
                "due": timezone.localtime(suggestion.response_due).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return len(late)
