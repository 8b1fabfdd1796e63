"""The transition table itself: pure, no database."""

import pytest

from changxin.demands import services, workflow
from changxin.demands.models import State
from changxin.demands.workflow import CENTRE, LEAD, REQUESTER, STREET, SYSTEM, TASK, WorkflowError


def test_every_transition_has_exactly_one_handler():
    assert set(services.HANDLERS) == set(workflow.TRANSITIONS)


def test_every_state_but_the_start_is_reachable_and_terminal_states_have_no_exit():
    targets = {t.target for t in workflow.TRANSITIONS.values() if t.target}
    assert targets | {State.RECEIVED} == set(State.values)
    for terminal in (State.ARCHIVED, State.MERGED):
        assert (
            workflow.MACHINE.offered_by_table(terminal, {CENTRE, LEAD, TASK, STREET, REQUESTER, SYSTEM}) == []
        )


def test_the_main_path_is_allowed_in_order():
    path = [
        ("dispatch", State.RECEIVED, CENTRE, State.DISPATCHED),
        ("acknowledge", State.DISPATCHED, LEAD, State.ACKNOWLEDGED),
        ("contact", State.ACKNOWLEDGED, LEAD, State.CONTACTED),
        ("start", State.CONTACTED, LEAD, State.IN_PROGRESS),
        ("reply", State.IN_PROGRESS, LEAD, State.REPLIED),
        ("return_visit", State.REPLIED, REQUESTER, State.VISITED),
        ("archive", State.VISITED, CENTRE, State.ARCHIVED),
    ]
    for name, state, actor, target in path:
        assert workflow.MACHINE.check_table(name, state, {actor}).target == target


@pytest.mark.parametrize(
    "name,state,relations,code",
    [
        ("reply", State.RECEIVED, {LEAD}, "illegal_state"),
        ("dispatch", State.RECEIVED, {LEAD}, "not_allowed"),
        ("acknowledge", State.DISPATCHED, {CENTRE}, "not_allowed"),
        ("whistle", State.ACKNOWLEDGED, {LEAD}, "not_allowed"),  # only a street lead unit whistles
        ("archive", State.REPLIED, {CENTRE}, "illegal_state"),
        ("dispatch", State.RECEIVED, set(), "not_allowed"),  # leadership has no relation
        ("fly", State.RECEIVED, {CENTRE}, "unknown_transition"),
    ],
)
def test_refusals_name_their_reason(name, state, relations, code):
    with pytest.raises(WorkflowError) as err:
        workflow.MACHINE.check_table(name, state, relations)
    assert err.value.code == code
    assert str(err.value)


def test_actions_offered_match_the_table():
    offered = {t.name for t in workflow.MACHINE.offered_by_table(State.ACKNOWLEDGED, {LEAD, STREET})}
    assert {"contact", "dispute", "request_extension", "whistle"} <= offered
    assert "dispatch" not in offered and "reply" not in offered
