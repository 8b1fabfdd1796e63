"""Retention: closed demands' personal data is anonymised after CHANGXIN_RETENTION_YEARS.

The record itself is permanent (the demand, its timeline, tasks and attachment rows stay, and the
三率 figures built on them do not change); what goes is what identifies the requester:

- the requester's name and phone are replaced by a marker, the link to their account is cut;
- phone numbers (found by the `phonenumbers` library's matcher) and e-mail addresses in every free
  text — title, content, reply, note, timeline notes, task notes, the requester messages sent — are
  replaced by "***", and so is the requester's name wherever it appears in those texts;
- attachments' files are removed from storage (the row keeps name, size and type).

A demand is "closed" when archived or merged, and old when its archive time (or, lacking one, its
receipt) is more than N years ago. `changxin anonymise` lists what would change (dry run, the
default) and `--apply` does it, writing one AuditEntry per run with the counts.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from changxin.core.models import AuditAction, AuditEntry
from changxin.demands.models import DemandAttachment, DemandEvent, DemandTask, State
from changxin.demands.selectors import unscoped_demands

REDACTED = "***"
RETAINED_STATES = (State.ARCHIVED, State.MERGED)
EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\]（）【】，。；：、,;:\"']+@[^\s<>()\[\]（）【】，。；：、,;:\"']+")


def marker() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("(anonymised)")


def scrub_text(text: str, names: tuple[str, ...] = ()) -> str:
    """`text` with phone numbers, e-mail addresses and the given names replaced by ***."""
    if not text:
        return text
    spans = [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID)
    ]
    for match in EMAIL_CANDIDATE.finditer(text):
        try:
            validate_email(match.group())
        except ValidationError:
            continue
        spans.append(match.span())
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REDACTED + text[end:]
    for name in names:
        if name and len(name) >= 2 and name != marker():
            text = text.replace(name, REDACTED)
    return text


@dataclass
class Report:
    cutoff: str
    demands: int = 0
    texts: int = 0
    events: int = 0
    tasks: int = 0
    messages: int = 0
    attachments: int = 0
    numbers: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        data = asdict(self)
        data.pop("numbers")
        return data


def years_before(moment, years: int):
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def due_demands(years: int | None = None, now=None):
    """Closed demands older than the retention period whose personal data is not yet anonymised."""
    years = settings.CHANGXIN_RETENTION_YEARS if years is None else years
    cutoff = years_before(now or timezone.now(), years)
    demands = (
        unscoped_demands()
        .filter(state__in=RETAINED_STATES)
        .annotate(retained_since=Coalesce("closed_at", "received_at"))
        .filter(retained_since__lt=cutoff)
        .exclude(Q(requester_name=marker()) & Q(requester_phone="") & Q(requester_user__isnull=True))
        .order_by("pk")
    )
    return demands, cutoff


def anonymise(*, apply: bool, years: int | None = None, now=None, actor=None) -> Report:
    demands, cutoff = due_demands(years, now)
    report = Report(cutoff=cutoff.isoformat())
    with transaction.atomic():
        for demand in demands.select_for_update() if apply else demands:
            report.demands += 1
            report.numbers.append(demand.number)
            names = tuple(n for n in {demand.requester_name} if n)
            changed = {}
            for name in ("title", "content", "reply", "address"):
                value = getattr(demand, name)
                scrubbed = scrub_text(value, names)
                if scrubbed != value:
                    changed[name] = scrubbed
            report.texts += len(changed)
            events = [
                e for e in DemandEvent.objects.filter(demand=demand) if scrub_text(e.note, names) != e.note
            ]
            tasks = [
                t
                for t in DemandTask.objects.filter(demand=demand)
                if scrub_text(t.request_note, names) != t.request_note
                or scrub_text(t.result_note, names) != t.result_note
            ]
            files = [a for a in DemandAttachment.objects.filter(demand=demand) if a.file]
            messages = list(_outbound_messages(demand))
            report.events += len(events)
            report.tasks += len(tasks)
            report.attachments += len(files)
            report.messages += len(messages)
            if not apply:
                continue
            unscoped_demands().filter(pk=demand.pk).update(
                requester_name=marker(), requester_phone="", requester_user=None, **changed
            )
            for event in events:
                DemandEvent.objects.filter(pk=event.pk).update(note=scrub_text(event.note, names))
            for task in tasks:
                DemandTask.objects.filter(pk=task.pk).update(
                    request_note=scrub_text(task.request_note, names),
                    result_note=scrub_text(task.result_note, names),
                )
            for attachment in files:
                name = attachment.file.name
                transaction.on_commit(lambda name=name: DemandAttachment.file.field.storage.delete(name))
                DemandAttachment.objects.filter(pk=attachment.pk).update(file="")
            for message in messages:
                type(message).objects.filter(pk=message.pk).update(
                    to=REDACTED, body=scrub_text(message.body, names)
                )
        if apply:
            AuditEntry.objects.create(
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                actor_name=actor.get_username() if getattr(actor, "is_authenticated", False) else "system",
                action=AuditAction.ANONYMISE,
                object_repr=_("Retention: %(years)s years")
                % {"years": years or settings.CHANGXIN_RETENTION_YEARS},
                detail=json.dumps(report.counts(), ensure_ascii=False),
            )
    return report


def _outbound_messages(demand):
    """The SMS/e-mail sent to the requester about this demand (addresses and texts are personal)."""
    from django.apps import apps

    if not apps.is_installed("changxin.notifications"):
        return []
    OutboundMessage = apps.get_model("notifications", "OutboundMessage")
    return OutboundMessage.objects.filter(demand=demand).exclude(to=REDACTED)
