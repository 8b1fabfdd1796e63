"""Staff screens of 接诉即办: demand detail with its actions, dispatch queue, officer workbench,
return visits and the overdue list.

Views are thin: every read goes through `selectors` (scoped), every change through
`services.transition()`; a `WorkflowError` is shown on the field it names or at the top of the page.
"""

from __future__ import annotations

import dataclasses
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from changxin.core import audit, roles, texts
from changxin.core.models import OrgUnit
from changxin.core.params import is_id, parse_int
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.roles import is_centre, is_district_wide, is_staff_side, works_in_unit
from changxin.demands import selectors, services, workflow
from changxin.demands.forms import form_for
from changxin.demands.models import (
    Category,
    Channel,
    DemandType,
    DisputeReason,
    ExtensionState,
    Resolution,
    Satisfaction,
    State,
    TaskRole,
    TaskState,
    Urgency,
)
from changxin.demands.templatetags.demand_tags import DeadlineClock
from changxin.demands.workflow import CENTRE, LEAD, WorkflowError

PAGE_SIZE = 50
VISIT_PAGE_SIZE = 20
PERSONAL_FIELDS = ["requester_name", "requester_phone"]
CENTRE_STATES = (State.RECEIVED, State.DISPUTED)
EVENT_LABELS = {"receive": gettext_lazy("Received")}
# Actions whose form opens by default: the next step of the normal path.
PRIMARY_ACTIONS = (
    "dispatch",
    "redispatch",
    "acknowledge",
    "contact",
    "reply",
    "submit_reply",
    "approve_reply",
    "return_visit",
)


def staff_required(check=is_staff_side):
    """Logged-in staff only; citizens and enterprise users use the station screens."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _safe_next(request, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return None


def _export_url(query: str) -> str | None:
    try:
        url = reverse("insight:export-demands")
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


# --- detail ------------------------------------------------------------------------------------


def _may_reveal(user, relations: set[str]) -> bool:
    """Only the centre and the lead unit's staff may unmask the requester (never read-only leadership)."""
    return not roles.is_read_only(user) and bool(relations & {CENTRE, LEAD})


def _requester(demand, reveal: bool) -> dict:
    if reveal:
        return {"name": demand.requester_name, "phone": demand.requester_phone, "masked": False}
    return {
        "name": mask_name(demand.requester_name),
        "phone": mask_phone(demand.requester_phone),
        "masked": True,
    }


def _triage(demand) -> dict | None:
    """The triage engineer's suggestion (a JSON dict), tolerant of missing keys."""
    triage = demand.triage if isinstance(demand.triage, dict) else {}
    if not triage:
        return None
    unit = None
    ref = triage.get("unit")
    if ref not in (None, ""):
        targets = selectors.dispatch_targets()
        unit = (targets.filter(pk=ref).first() if is_id(ref) else None) or targets.filter(
            code=str(ref)
        ).first()
    confidence = triage.get("confidence")
    try:
        confidence = round(float(confidence) * 100) if confidence is not None else None
    except (TypeError, ValueError):
        confidence = None
    duplicates = [d for d in triage.get("duplicates") or [] if isinstance(d, dict) and d.get("number")]
    for dup in duplicates:
        try:
            dup["percent"] = round(float(dup.get("score") or 0) * 100)
        except (TypeError, ValueError):
            dup["percent"] = None
    category = triage.get("category_name") or triage.get("category") or ""
    if is_id(category):
        found = Category.objects.filter(pk=category).first()
        category = found.full_name if found else ""
    return {
        "category": category,
        "confidence": confidence,
        "unit": unit,
        "unit_name": unit.name if unit else triage.get("unit_name") or "",
        "reasons": [str(r) for r in triage.get("reasons") or []],
        "duplicates": duplicates,
    }


def _my_open_tasks(user, tasks) -> list:
    if user.is_read_only:
        return []
    return [t for t in tasks if services.is_open_task_of(t, user)]


def _build_forms(request, demand, tasks, triage, bound: dict) -> list:
    """The action forms the user may use now, in workflow-table order; `bound` replaces a fresh form."""
    user = request.user
    suggested = triage["unit"].pk if triage and triage["unit"] else None
    result = []
    for step in services.available_actions(user, demand):
        if step.name in ("task_acknowledge", "task_complete"):
            for task in _my_open_tasks(user, tasks):
                if step.name == "task_acknowledge" and task.state != TaskState.PENDING:
                    continue
                key = f"{step.name}:{task.pk}"
                form = bound.get(key) or form_for(step.name, demand=demand, user=user, task=task)
                result.append({"form": form, "task": task, "key": key})
            continue
        if step.name == "withdraw_task":
            for task in tasks:
                if task.role == TaskRole.LEAD or task.state not in (
                    TaskState.PENDING,
                    TaskState.ACKNOWLEDGED,
                ):
                    continue
                key = f"{step.name}:{task.pk}"
                form = bound.get(key) or form_for(step.name, demand=demand, user=user, task=task)
                result.append({"form": form, "task": task, "key": key})
            continue
        form = bound.get(step.name) or form_for(step.name, demand=demand, user=user, suggested_unit=suggested)
        result.append({"form": form, "task": None, "key": step.name})
    primary = next((f for f in result if f["form"].action in PRIMARY_ACTIONS), None)
    for item in result:
        item["open"] = item is primary or item["form"].is_bound
    return result


def _unit_names(events) -> dict[int, str]:
    pks: set[int] = set()
    for event in events:
        data = event.data or {}
        for key in ("lead_unit", "unit", "dispute_upheld_for", "dispute_rejected_for"):
            if isinstance(data.get(key), int):
                pks.add(data[key])
        for key in ("co_units", "units"):
            pks.update(v for v in data.get(key) or [] if isinstance(v, int))
    return dict(OrgUnit.objects.filter(pk__in=pks).values_list("pk", "name")) if pks else {}


def _event_details(event, names: dict[int, str]) -> list[str]:
    """Human-readable facts from an event's data (unit names, reasons, answers)."""
    data = event.data or {}
    out = []

    def units(values):
        return "、".join(names.get(v, str(v)) for v in values or [])

    if event.action in ("dispatch", "redispatch", "reopen") and data.get("lead_unit"):
        out.append(
            _("Lead unit: %(unit)s") % {"unit": names.get(data["lead_unit"], data.get("lead_unit_name", ""))}
        )
        if data.get("co_units"):
            out.append(_("Co-units: %(units)s") % {"units": units(data["co_units"])})
        if data.get("automatic"):
            out.append(
                _("Dispatched automatically: %(reasons)s")
                % {"reasons": texts.join_clauses(data.get("reasons") or [])}
            )
    if event.action == "redispatch" and data.get("dispute_upheld_for"):
        out.append(_("Dispute upheld for %(unit)s") % {"unit": names.get(data["dispute_upheld_for"], "")})
    if event.action in DISPUTE_ACTIONS and data.get("reason") in DisputeReason.values:
        out.append(_("Reason: %(reason)s") % {"reason": DisputeReason(data["reason"]).label})
    if event.action == "whistle" and data.get("units"):
        out.append(_("Called in: %(units)s") % {"units": units(data["units"])})
    if event.action in EXTENSION_ACTIONS and data.get("days"):
        out.append(_("%(days)s working days") % {"days": data["days"]})
    if event.action in ("task_acknowledge", "task_complete") and data.get("unit"):
        out.append(names.get(data["unit"], ""))
    if event.action == "contact" and "on_time" in data:
        out.append(_("within the contact deadline") if data["on_time"] else _("after the contact deadline"))
    if event.action in ("reply", "approve_reply") and "on_time" in data:
        out.append(_("within the deadline") if data["on_time"] else _("after the deadline"))
    if event.action == "return_visit":
        if data.get("resolution") in Resolution.values:
            out.append(Resolution(data["resolution"]).label)
        if data.get("satisfaction") in Satisfaction.values:
            out.append(Satisfaction(data["satisfaction"]).label)
    if event.action == "visit_attempt" and data.get("attempt"):
        out.append(_("Attempt %(n)s") % {"n": data["attempt"]})
    if event.action == "merge" and data.get("master_number"):
        out.append(_("Merged into %(number)s") % {"number": data["master_number"]})
    if event.action == "supervise" and data.get("kind"):
        out.append(
            _("Missed the contact deadline") if data["kind"] == "contact" else _("Missed the finish deadline")
        )
    return [str(x) for x in out if x]


def _timeline(user, demand) -> list[dict]:
    events = list(selectors.list_events(user, demand))
    names = _unit_names(events)
    rows = []
    for event in events:
        step = workflow.TRANSITIONS.get(event.action)
        rows.append(
            {
                "event": event,
                "label": step.label if step else EVENT_LABELS.get(event.action, event.action),
                "actor": str(event.actor)
                if event.actor_id
                else texts.actor_label(event.actor_name or "system"),
                "unit": event.actor_unit.name if event.actor_unit_id else "",
                "from": State(event.from_state).label if event.from_state in State.values else "",
                "to": State(event.to_state).label if event.to_state in State.values else "",
                "changed": bool(event.from_state and event.from_state != event.to_state),
                "details": _event_details(event, names),
            }
        )
    return rows


def _detail_context(request, demand, *, bound=None, reveal=False, top_errors=()) -> dict:
    user = request.user
    relations = services.relations_of(user, demand)
    tasks = list(selectors.list_tasks(demand))
    triage = _triage(demand) if CENTRE in relations and demand.state == State.RECEIVED else None
    clock = DeadlineClock(selectors.clock_hour_policies())
    contact_clock, finish_clock = clock.clock_flags(demand)
    open_ = demand.is_open
    timeline = _timeline(user, demand)
    action_forms = _build_forms(request, demand, tasks, triage, bound or {})
    dispute = None
    if demand.state == State.DISPUTED:
        last = next((row for row in reversed(timeline) if row["event"].action in DISPUTE_ACTIONS), None)
        dispute = {"row": last}
    return {
        "demand": demand,
        "show_tracking_code": CENTRE in relations,  # the operator reads it out to a phone caller
        "requester": _requester(demand, reveal),
        "can_reveal": _may_reveal(user, relations) and bool(demand.requester_name or demand.requester_phone),
        "revealed": reveal,
        "tasks": [
            {
                "task": t,
                "countdown": clock.task_countdown(t, demand)
                if t.state in (TaskState.PENDING, TaskState.ACKNOWLEDGED) and open_
                else None,
            }
            for t in tasks
        ],
        "attachments": selectors.list_attachments(user, demand),
        "timeline": timeline,
        "contact_countdown": clock.countdown(demand.contact_due, clock=contact_clock)
        if open_ and demand.contacted_at is None
        else None,
        "finish_countdown": clock.countdown(demand.finish_due, clock=finish_clock) if open_ else None,
        "dispute": dispute,
        "duplicates": selectors.list_duplicates(user, demand),
        "triage": triage,
        "action_forms": action_forms,
        "can_merge": any(item["form"].action == "merge" for item in action_forms),
        "top_errors": list(top_errors),
        "read_only": user.is_read_only,
    }


@require_GET
@staff_required()
def demand_detail(request, pk):
    demand = selectors.get_demand_for(request.user, pk=pk)
    return render(request, "demands/detail.html", _detail_context(request, demand))


@require_POST
@staff_required()
def reveal_requester(request, pk):
    """Show the requester's name and phone to the centre or the lead unit's staff, and log it."""
    demand = selectors.get_demand_for(request.user, pk=pk)
    if not _may_reveal(request.user, services.relations_of(request.user, demand)):
        raise PermissionDenied
    audit.record_personal_view(request.user, demand, PERSONAL_FIELDS, request=request)
    if request.htmx:
        return render(
            request, "demands/_requester.html", {"demand": demand, "requester": _requester(demand, True)}
        )
    return render(request, "demands/detail.html", _detail_context(request, demand, reveal=True))


@require_GET
@staff_required()
def attachment(request, pk, attachment_pk):
    demand = selectors.get_demand_for(request.user, pk=pk)
    item = selectors.get_attachment_for(request.user, demand, attachment_pk)
    return FileResponse(
        item.file.open("rb"), as_attachment=False, filename=item.original_name, content_type=item.content_type
    )


ERROR_STATUS = {"stale": 409, "not_allowed": 403}
TASK_ACTIONS = ("task_acknowledge", "task_complete", "withdraw_task")
DISPUTE_ACTIONS = ("dispute", "submit_dispute", "approve_dispute")
EXTENSION_ACTIONS = (
    "request_extension",
    "submit_extension",
    "approve_extension_request",
    "approve_extension",
)


def _confirmation(action: str, demand) -> str:
    """What the page says after an action; after a dispatch, also where the demand went."""
    done = _("“%(action)s” done.") % {"action": workflow.TRANSITIONS[action].label}
    if action in ("dispatch", "redispatch"):
        demand.refresh_from_db(fields=["number", "lead_unit"])
        if demand.lead_unit_id:
            detail = _("%(number)s went to %(unit)s.") % {
                "number": demand.number,
                "unit": demand.lead_unit.name,
            }
            return _("%(done)s %(detail)s") % {"done": done, "detail": detail}
    return done


@require_POST
@staff_required()
def act(request, pk, action):
    """Apply one workflow action. Success: back to `next` (or the detail page). Failure: the form again."""
    demand = selectors.get_demand_for(request.user, pk=pk)
    if action not in workflow.TRANSITIONS:
        raise Http404(action)
    task = None
    if action in TASK_ACTIONS:
        task_pk = parse_int(request.POST.get("task"), min_value=1)
        task = demand.tasks.select_related("unit").filter(pk=task_pk).first() if task_pk else None
    form = form_for(action, request.POST, demand=demand, user=request.user, task=task)
    top_errors: list[str] = []
    status = 400
    if form.is_valid():
        try:
            services.transition(
                demand,
                action,
                request.user,
                note=form.cleaned_data.get("note", ""),
                expected_version=form.cleaned_data["version"],
                **form.service_data(),
            )
        except WorkflowError as error:
            status = ERROR_STATUS.get(error.code, 400)
            if not form.add_workflow_error(error):
                top_errors.append(str(error.message))
        else:
            target = _safe_next(request, form.cleaned_data.get("next")) or reverse(
                "demands:detail", args=[pk]
            )
            # shown by the page htmx swaps in as well (queue, visits, workbench show it in their list)
            messages.success(request, _confirmation(action, demand))
            return redirect(target)
    else:
        hidden = [e for f in form.hidden_fields() for e in f.errors]
        if hidden:
            top_errors.append(_("This form was incomplete or out of date. Reload the page and try again."))
        top_errors.extend(str(e) for e in form.non_field_errors())
    if request.htmx:
        errors = top_errors or [str(e) for field in form for e in field.errors]
        response = render(request, "demands/_action_errors.html", {"errors": errors, "demand": demand})
        response["HX-Retarget"] = f"#errors-{demand.pk}"
        response["HX-Reswap"] = "innerHTML"
        response["HX-Reselect"] = ".action-errors"
        return response
    demand.refresh_from_db()
    key = f"{action}:{task.pk}" if task is not None else action
    context = _detail_context(request, demand, bound={key: form}, top_errors=top_errors)
    context["failed_action"] = workflow.TRANSITIONS[action].label
    return render(request, "demands/detail.html", context, status=status)


# --- dispatcher queue ------------------------------------------------------------------------


def _filter_choices() -> dict:
    return {
        "states": State.choices,
        "types": DemandType.choices,
        "urgencies": Urgency.choices,
        "channels": Channel.choices,
        "streets": selectors.streets(),
        "categories": selectors.top_categories(),
        "dues": [("overdue", gettext_lazy("Overdue")), ("soon", gettext_lazy("Nearly overdue"))],
    }


class CountedPaginator(Paginator):
    """A paginator told its total (counted already, with the state chips): no COUNT query of its own."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def _query_without(request, *names) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@require_GET
@staff_required(is_district_wide)
def queue(request):
    user = request.user
    flt = selectors.DemandFilter.from_params(request.GET)
    default_view = not any(name in request.GET for name in selectors.DemandFilter.FIELDS)
    if default_view:
        flt.view = "centre"
    rows = selectors.list_rows(user, flt)
    rows = rows.order_by("received_at", "id") if default_view else rows.order_by("-received_at", "-id")
    # one grouped count gives the chips and the list's total (the list is the chips' rows cut to
    # its state or view), so the page reads every visible row once, not twice
    counts = selectors.counts_by_state(
        selectors.list_demands(user, dataclasses.replace(flt, state="", view=""), read_all=True)
    )
    states = set(flt.VIEWS[flt.view]) if flt.view else None
    if flt.state:
        states = {flt.state} if states is None else states & {flt.state}
    total = sum(counts.values()) if states is None else sum(counts.get(s, 0) for s in states)
    page = selectors.row_page(CountedPaginator(rows, PAGE_SIZE, total), request.GET.get("page"))
    base = _query_without(request, "state", "page")
    chips = [
        {
            "label": _("Needs the centre"),
            "count": sum(counts.get(s, 0) for s in CENTRE_STATES),
            "url": "?" + base if base else "?",
            "current": default_view,
        },
        {
            "label": _("All"),
            "count": sum(counts.values()),
            "url": "?" + (base + "&" if base else "") + "state=",
            "current": not default_view and not flt.state,
        },
    ]
    chips += [
        {
            "label": label,
            "count": counts.get(value, 0),
            "url": "?" + (base + "&" if base else "") + urlencode({"state": value}),
            "current": flt.state == value,
        }
        for value, label in State.choices
        if counts.get(value)
    ]
    return render(
        request,
        "demands/queue.html",
        {
            "page": page,
            "flt": flt,
            "default_view": default_view,
            "chips": chips,
            # the export lists what the page lists: the current filters, or the default view
            "export_url": _export_url(
                urlencode({"view": flt.view}) if default_view else _query_without(request, "page")
            ),
            "clock": DeadlineClock(selectors.clock_hour_policies()),
            "can_dispatch": is_centre(user),
            "next_url": request.get_full_path(),
            **_filter_choices(),
        },
    )


@require_GET
@staff_required(is_centre)
def quick_dispatch(request, pk):
    """The inline dispatch form of one queue row (htmx), with the triage suggestion preselected."""
    demand = selectors.get_demand_for(request.user, pk=pk)
    triage = _triage(demand)
    form = form_for(
        "dispatch",
        demand=demand,
        user=request.user,
        suggested_unit=triage["unit"].pk if triage and triage["unit"] else None,
        initial={"next": _safe_next(request, request.GET.get("next")) or reverse("demands:queue")},
    )
    return render(request, "demands/_quick_dispatch.html", {"demand": demand, "form": form, "triage": triage})


# --- officer workbench -----------------------------------------------------------------------

WORKBENCH_GROUPS = [
    ("acknowledge", gettext_lazy("To acknowledge")),
    ("contact", gettext_lazy("To contact the requester")),
    ("progress", gettext_lazy("In progress")),
    ("extension", gettext_lazy("Extension requested")),
    ("disputed", gettext_lazy("Disputed, waiting for the centre")),
    ("called", gettext_lazy("Called-in and co-unit tasks (吹哨报到)")),
]


def _workbench_group(task) -> str:
    if task.role != TaskRole.LEAD:
        return "called"
    demand = task.demand
    if demand.state == State.DISPUTED:
        return "disputed"
    if demand.extension_state == ExtensionState.PENDING:
        return "extension"
    if demand.state == State.DISPATCHED:
        return "acknowledge"
    if demand.state == State.ACKNOWLEDGED:
        return "contact"
    return "progress"


@require_GET
@staff_required(works_in_unit)
def workbench(request):
    user = request.user
    tasks = selectors.tasks_for_unit_staff(user).prefetch_related("demand__tasks__unit")
    groups: dict[str, list] = {key: [] for key, _label in WORKBENCH_GROUPS}
    for task in tasks:
        group = _workbench_group(task)
        # the one-tap button, when the workflow machine offers it to this person (unit staff, or
        # the person the task is assigned to)
        quick = {"acknowledge": "acknowledge", "called": "task_acknowledge"}.get(group)
        task.quick_action = quick if quick and services.may(user, task.demand, quick) else None
        groups[group].append(task)
    return render(
        request,
        "demands/workbench.html",
        {
            "groups": [{"key": key, "label": label, "tasks": groups[key]} for key, label in WORKBENCH_GROUPS],
            "total": sum(len(v) for v in groups.values()),
            "clock": DeadlineClock(selectors.clock_hour_policies()),
            "next_url": reverse("demands:workbench"),
        },
    )


# --- return visits ---------------------------------------------------------------------------


@require_GET
@staff_required(is_district_wide)
def visits(request):
    user = request.user
    page = Paginator(selectors.list_awaiting_visit(user), VISIT_PAGE_SIZE).get_page(request.GET.get("page"))
    centre = is_centre(user)
    if centre:
        shown = [d for d in page if d.requester_name or d.requester_phone]
        audit.record_personal_views(user, shown, PERSONAL_FIELDS, request=request)
    rows = []
    for demand in page:
        rows.append(
            {
                "demand": demand,
                "requester": _requester(demand, reveal=centre),
                "visit_form": form_for(
                    "return_visit", demand=demand, user=user, initial={"next": request.get_full_path()}
                )
                if centre
                else None,
                "attempt_form": form_for(
                    "visit_attempt", demand=demand, user=user, initial={"next": request.get_full_path()}
                )
                if centre
                else None,
            }
        )
    return render(
        request,
        "demands/visits.html",
        {"page": page, "rows": rows, "can_act": centre},
    )


# --- overdue / nearly overdue ----------------------------------------------------------------


@require_GET
@staff_required()
def overdue(request):
    flt = selectors.DemandFilter.from_params(request.GET)
    if flt.due not in ("overdue", "soon"):
        flt.due = "overdue"
    rows = selectors.list_rows(request.user, flt).order_by("finish_due", "id")
    total = selectors.list_demands(request.user, flt, read_all=True).count()
    page = selectors.row_page(CountedPaginator(rows, PAGE_SIZE, total), request.GET.get("page"))
    return render(
        request,
        "demands/overdue.html",
        {
            "page": page,
            "flt": flt,
            "clock": DeadlineClock(selectors.clock_hour_policies()),
            "export_url": _export_url(
                urlencode({**{k: v for k, v in request.GET.items() if k != "page"}, "due": flt.due})
            ),
            **_filter_choices(),
        },
    )


@require_GET
@staff_required()
def index(request):
    user = request.user
    if is_district_wide(user):
        return redirect("demands:queue")
    if works_in_unit(user):
        return redirect("demands:workbench")
    return redirect("demands:overdue")


# --- the category picker's search (htmx) -------------------------------------------------------


@require_GET
def category_search(request):
    """Options of the category picker: categories whose names or synonyms match what was typed.
    The taxonomy is public reference data (every form that files a demand uses the picker)."""
    from changxin.demands.taxonomy import search_categories

    field = request.GET.get("field") or "category"
    if not field.isidentifier():
        field = "category"
    query = (request.GET.get(f"{field}_q") or request.GET.get("q") or "")[:30]
    return render(
        request,
        "demands/_category_options.html",
        {"options": search_categories(query), "field": field, "query": query.strip()},
    )
