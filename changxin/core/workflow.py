"""The one workflow machine every lifecycle runs on (demands, and the wings' projects, inspections
and party-member pipeline).

A `Machine` is a table of `Transition`s: from which states, to which state (None: the state stays
and the action is recorded on the timeline), which actor relations may apply it, whether a note is
required, and its `Guard`s — data preconditions that carry their own error code and translated
message, so a refusal names the rule. Pure: no database. Each app's service layer applies it
(demands.services.transition: row lock, handler, event, audit) and asks it which actions to offer:

    machine.check(name, obj, relations)      raise DomainError unless allowed now
    machine.available(obj, relations)        the transitions to offer (screens, API, portal)

Actors are relations between a user and the object ("lead", "task", "requester", "assignee",
"system" …), worked out by the app; the machine only matches them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError

__all__ = ["Guard", "Machine", "Transition", "WorkflowError"]


class WorkflowError(DomainError):
    """A transition that the table, the actor or the data does not allow. Nothing was changed."""

    KINDS = {
        "illegal_state": CONFLICT,
        "stale": CONFLICT,
        "not_allowed": FORBIDDEN,
        "read_only": FORBIDDEN,
        "unknown_transition": INVALID,
    }

    def __init__(self, code: str, message, field: str | None = None, *, kind: str | None = None):
        super().__init__(code, message, field, kind=kind or self.KINDS.get(code, INVALID))


@dataclass(frozen=True)
class Guard:
    """A data precondition of a transition: `test(obj, now)` must hold, else `code`/`message`."""

    test: Callable[[object, dt.datetime], bool]
    code: str
    message: object  # a (lazy) translated string; may use %(…)s placeholders filled by `params`
    field: str | None = None
    params: Callable[[object], dict] | None = None

    def refusal(self, obj) -> WorkflowError:
        message = self.message
        if self.params is not None:
            message = str(message) % self.params(obj)
        return WorkflowError(self.code, message, self.field, kind=CONFLICT)


@dataclass(frozen=True)
class Transition:
    name: str
    label: object
    sources: tuple[str, ...]
    target: str | None
    actors: frozenset[str]
    needs_note: bool = False
    guards: tuple[Guard, ...] = ()

    def failed_guard(self, obj, now: dt.datetime | None = None) -> Guard | None:
        now = now or timezone.now()
        for guard in self.guards:
            if not guard.test(obj, now):
                return guard
        return None


def transition(name, label, sources, target, actors, needs_note=False, guards=()) -> Transition:
    return Transition(name, label, tuple(sources), target, frozenset(actors), needs_note, tuple(guards))


@dataclass
class Machine:
    """A lifecycle: its states (a TextChoices class), the field holding the state, its transitions."""

    name: str
    states: type
    transitions: Iterable[Transition]
    state_field: str = "state"
    noun: object = _("object")
    table: dict[str, Transition] = field(init=False)

    def __post_init__(self):
        self.table = {t.name: t for t in self.transitions}
        known = set(self.states.values)
        for t in self.table.values():
            unknown = (set(t.sources) | ({t.target} if t.target else set())) - known
            if unknown:
                raise ValueError(f"{self.name}.{t.name}: unknown states {sorted(unknown)}")

    # --- the table alone (no object): for docs, the API's /workflow and table tests -------------

    def get(self, name: str) -> Transition:
        try:
            return self.table[name]
        except KeyError:
            raise WorkflowError(
                "unknown_transition", _("Unknown action “%(name)s”.") % {"name": name}
            ) from None

    def state_label(self, state: str) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return state

    def check_table(self, name: str, state: str, relations: set[str]) -> Transition:
        """Raise unless `name` may be applied in `state` by an actor with `relations` (no guards)."""
        step = self.get(name)
        if state not in step.sources:
            raise WorkflowError(
                "illegal_state",
                _("“%(action)s” is not possible while the %(noun)s is “%(state)s”.")
                % {"action": step.label, "noun": self.noun, "state": self.state_label(state)},
            )
        if not (step.actors & relations):
            raise WorkflowError(
                "not_allowed",
                _("You may not “%(action)s” on this %(noun)s.") % {"action": step.label, "noun": self.noun},
            )
        return step

    def offered_by_table(self, state: str, relations: set[str]) -> list[Transition]:
        return [t for t in self.table.values() if state in t.sources and t.actors & relations]

    # --- on an object: table, actor and guards ---------------------------------------------------

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def check(self, name: str, obj, relations: set[str], now: dt.datetime | None = None) -> Transition:
        """Raise WorkflowError (code, translated message, kind) unless `name` may be applied to `obj`."""
        step = self.check_table(name, self.state_of(obj), relations)
        guard = step.failed_guard(obj, now)
        if guard is not None:
            raise guard.refusal(obj)
        return step

    def available(self, obj, relations: set[str], now: dt.datetime | None = None) -> list[Transition]:
        """The transitions an actor with `relations` may apply to `obj` now — what every screen,
        the API and the portal offer."""
        now = now or timezone.now()
        return [
            t
            for t in self.offered_by_table(self.state_of(obj), relations)
            if t.failed_guard(obj, now) is None
        ]

    def allows(self, name: str, obj, relations: set[str], now: dt.datetime | None = None) -> bool:
        try:
            self.check(name, obj, relations, now)
        except WorkflowError:
            return False
        return True
