"""Screens of 合作方向清单 (offers, needs, scenarios, matches), 意见建议清单 and policy matching
(免申即享): thin — parse, check, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from changxin.core import roles
from changxin.core.models import OrgUnit
from changxin.core.privacy import mask_name, mask_phone
from changxin.core.scope import get_visible_or_404
from changxin.core.workflow import WorkflowError
from changxin.port import cooperation, policies, selectors, suggestions
from changxin.port import services as port_services
from changxin.port.forms_cooperation import (
    CooperationItemForm,
    GrantActionForm,
    MatchActionForm,
    PolicyForm,
    ScenarioForm,
    SuggestionActionForm,
    SuggestionForm,
)
from changxin.port.machines import ENTERPRISE
from changxin.port.models import Enterprise, MatchState, Policy, SuggestionState


def _gate(user) -> None:
    if not selectors.may_use_port(user):
        raise PermissionDenied


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _labelled(events, machine, extra: dict) -> list:
    """Timeline rows with a readable label for their action (the machine's, else `extra`)."""
    rows = list(events)
    for event in rows:
        step = machine.table.get(event.action)
        event.label = extra.get(event.action) or (step.label if step else event.action)
    return rows


def _postable(user):
    """The enterprises `user` may post cooperation items for."""
    if roles.is_read_only(user):
        return Enterprise.objects.none()
    if roles.is_centre(user):
        return Enterprise.objects.active().order_by("name")
    return selectors.own_enterprises(user).filter(is_active=True)


# --- 合作方向清单 ----------------------------------------------------------------------------------


@login_required
@require_GET
def cooperation_home(request):
    """The viewer's offers and needs, and the matches involving them, best first."""
    user = request.user
    _gate(user)
    state = request.GET.get("state", "")
    matches = cooperation.matches_visible_to(user)
    if state in MatchState.values:
        matches = matches.filter(state=state)
    items = cooperation.items_visible_to(user).filter(is_open=True)
    return render(
        request,
        "port/cooperation/home.html",
        {
            "items": list(items[:100]),
            "matches": list(matches.order_by("-score", "-id")[:100]),
            "states": MatchState.choices,
            "state": state,
            "may_post": _postable(user).exists(),
            "scenario_count": cooperation.open_scenarios().count(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cooperation_new(request):
    user = request.user
    _gate(user)
    enterprises = _postable(user)
    if not enterprises.exists():
        raise PermissionDenied
    form = CooperationItemForm(request.POST or None, enterprises=enterprises)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = cooperation.post_item(form.cleaned_data["enterprise"], form.item_data(), actor=user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                found = item.offer_matches.count() + item.need_matches.count()
                messages.success(request, _("Posted; %(count)s possible matches found.") % {"count": found})
                return redirect("port:cooperation")
        status = 400
    return render(request, "port/cooperation/new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def match_detail(request, pk):
    user = request.user
    _gate(user)
    match = get_visible_or_404(cooperation.matches_visible_to(user), user, pk=pk)
    actions = cooperation.match_actions(user, match)
    if request.method == "POST" and not actions:
        raise PermissionDenied
    form = MatchActionForm(request.POST or None, actions=actions)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                cooperation.apply_match(
                    match,
                    form.cleaned_data["action"],
                    user,
                    note=form.cleaned_data["note"],
                    expected_version=request.POST.get("version"),
                )
            except WorkflowError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The match is updated."))
                return redirect("port:match", pk=match.pk)
        status = 400
    show = cooperation.may_see_contacts(user, match)
    answers = {"accept": _("Accept"), "decline": _("Decline")}

    def contact(enterprise):
        if enterprise is None:
            return None
        if show or port_services.may_see_contacts(user, enterprise):  # connected, or one's own
            return {"name": enterprise.contact_name, "phone": enterprise.contact_phone, "masked": False}
        return {
            "name": mask_name(enterprise.contact_name),
            "phone": mask_phone(enterprise.contact_phone),
            "masked": True,
        }

    return render(
        request,
        "port/cooperation/match.html",
        {
            "match": match,
            "actions": actions,
            "form": form,
            "events": _labelled(
                match.events.order_by("at", "id"), cooperation.MATCH, {"propose": _("Proposed")}
            ),
            "offer_answer": answers.get(match.offer_answer, ""),
            "other_answer": answers.get(match.other_answer, ""),
            "offer_contact": contact(match.offer.enterprise),
            "other_contact": contact(match.need.enterprise if match.need_id else None),
        },
        status=status,
    )


@login_required
@require_GET
def scenarios(request):
    user = request.user
    _gate(user)
    return render(
        request,
        "port/cooperation/scenarios.html",
        {
            "scenarios": list(cooperation.open_scenarios().order_by("deadline", "-id")[:200]),
            "may_publish": cooperation.may_publish_scenarios(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def scenario_new(request):
    user = request.user
    _gate(user)
    if not cooperation.may_publish_scenarios(user):
        raise PermissionDenied
    units = OrgUnit.objects.filter(is_active=True, kind__in=roles.DISPATCHABLE_KINDS).order_by("kind", "name")
    form = ScenarioForm(request.POST or None, units=units)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                cooperation.publish_scenario(form.cleaned_data, actor=user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The scenario is published."))
                return redirect("port:scenarios")
        status = 400
    return render(request, "port/cooperation/scenario_new.html", {"form": form}, status=status)


# --- 意见建议清单 ----------------------------------------------------------------------------------


def _suggestion_gate(user) -> None:
    if not roles.is_active(user) or not (roles.is_staff_side(user) or user.role == roles.Role.ENTERPRISE):
        raise PermissionDenied


def _own_submittable(user):
    if getattr(user, "role", None) != roles.Role.ENTERPRISE:
        return Enterprise.objects.none()
    return selectors.own_enterprises(user).filter(is_active=True)


@login_required
@require_GET
def suggestion_list(request):
    user = request.user
    _suggestion_gate(user)
    qs = suggestions.suggestions_visible_to(user)
    state = request.GET.get("state", "")
    if state in SuggestionState.values:
        qs = qs.filter(state=state)
    if request.GET.get("overdue") == "1":
        qs = qs.filter(is_overdue=True)
    return render(
        request,
        "port/suggestions/list.html",
        {
            "suggestions": list(qs[:200]),
            "states": SuggestionState.choices,
            "state": state,
            "overdue": request.GET.get("overdue") == "1",
            "may_submit": _own_submittable(user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def suggestion_new(request):
    user = request.user
    _suggestion_gate(user)
    enterprises = _own_submittable(user)
    if not enterprises.exists():
        raise PermissionDenied
    form = SuggestionForm(request.POST or None, enterprises=enterprises)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                suggestion = suggestions.submit(
                    form.cleaned_data["enterprise"],
                    {"title": form.cleaned_data["title"], "content": form.cleaned_data["content"]},
                    actor=user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Suggestion submitted."))
                return redirect("port:suggestion", pk=suggestion.pk)
        status = 400
    return render(request, "port/suggestions/new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def suggestion_detail(request, pk):
    """No role gate: the scope decides (a citizen or another unit sees a 404, never a 403)."""
    user = request.user
    suggestion = get_visible_or_404(suggestions.suggestions_visible_to(user), user, pk=pk)
    actions = suggestions.actions(user, suggestion)
    if request.method == "POST" and not actions:
        raise PermissionDenied
    form = SuggestionActionForm(request.POST or None, actions=actions, units=suggestions.responsible_units())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                suggestions.move(
                    suggestion,
                    form.cleaned_data["action"],
                    user,
                    unit=form.cleaned_data["unit"],
                    note=form.cleaned_data["note"],
                    expected_version=request.POST.get("version"),
                )
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The suggestion is updated."))
                return redirect("port:suggestion", pk=suggestion.pk)
        status = 400
    return render(
        request,
        "port/suggestions/detail.html",
        {
            "suggestion": suggestion,
            "form": form if actions else None,
            "may_assign": any(a.name == "assign" for a in actions),
            "events": _labelled(
                suggestion.events.order_by("at", "id"),
                suggestions.SUGGESTION,
                {"submit": _("Submitted"), "overdue": _("Overdue")},
            ),
        },
        status=status,
    )


# --- 惠企政策 / 免申即享 ---------------------------------------------------------------------------


@login_required
@require_GET
def policy_list(request):
    """Enterprise accounts: their eligible policies, why, and where each stands. Staff: the
    registry with the fulfilment totals."""
    user = request.user
    _gate(user)
    if user.role == roles.Role.ENTERPRISE:
        rows = []
        grants = {(g.policy_id, g.enterprise_id): g for g in policies.grants_visible_to(user)}
        for enterprise in selectors.own_enterprises(user)[:5]:
            for policy, why in policies.eligible_policies(enterprise):
                grant = grants.get((policy.pk, enterprise.pk))
                rows.append(
                    {
                        "enterprise": enterprise,
                        "policy": policy,
                        "why": why,
                        "grant": grant,
                        # own enterprises: the account is a member, so its relation is known
                        "actions": policies.grant_actions(user, grant, {ENTERPRISE}) if grant else [],
                    }
                )
        return render(request, "port/policies/mine.html", {"rows": rows})
    items = list(policies.active_policies().order_by("-id")[:200])
    totals = policies.totals(items)
    return render(
        request,
        "port/policies/list.html",
        {
            "rows": [{"policy": p, "totals": totals.get(p.pk, {})} for p in items],
            "may_manage": policies.may_manage(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request):
    user = request.user
    _gate(user)
    if not policies.may_manage(user):
        raise PermissionDenied
    form = PolicyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = policies.register_policy(form.policy_data(), actor=user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request, _("The policy is registered; match it to the registry on its page.")
                )
                return redirect("port:policy", pk=policy.pk)
        status = 400
    return render(request, "port/policies/new.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def policy_detail(request, pk):
    """A policy's criteria, the eligible enterprises the viewer may see (with the reason), and the
    fulfilment of each: the centre matches and moves grants, an enterprise applies."""
    user = request.user
    _gate(user)
    policy = policies.get_policy_or_404(pk)
    if request.method == "POST":
        return _policy_post(request, policy)
    grants = {g.enterprise_id: g for g in policies.grants_visible_to(user).filter(policy=policy)}
    eligible = [
        {
            "enterprise": e,
            "why": why,
            "grant": grants.get(e.pk),
            "actions": policies.grant_actions(user, grants[e.pk]) if e.pk in grants else [],
        }
        for e, why in policies.eligible_enterprises(policy, user)[:300]
    ]
    return render(
        request,
        "port/policies/detail.html",
        {
            "policy": policy,
            "criteria": _criteria(policy),
            "eligible": eligible,
            "totals": policies.totals([policy]).get(policy.pk, {}),
            "may_manage": policies.may_manage(user),
        },
    )


def _criteria(policy: Policy) -> list[tuple[str, str]]:
    rows = []
    if policy.industries:
        rows.append((_("Industries"), "、".join(policy.industries)))
    if policy.sizes:
        rows.append((_("Sizes"), "、".join(str(policies.SIZE_LABELS[s]) for s in policy.sizes)))
    if policy.zones:
        rows.append((_("Functional zones"), "、".join(str(policies.ZONE_LABELS[z]) for z in policy.zones)))
    if policy.flags:
        rows.append((_("Required flags"), "、".join(str(policies.FLAG_LABELS[f]) for f in policy.flags)))
    for label, low, high in (
        (_("Employees"), policy.min_employees, policy.max_employees),
        (_("Annual revenue (10,000 yuan)"), policy.min_revenue, policy.max_revenue),
    ):
        bounds = [f"≥ {policies.figure(low)}" if low is not None else ""]
        bounds.append(f"≤ {policies.figure(high)}" if high is not None else "")
        if any(bounds):
            rows.append((label, " ".join(b for b in bounds if b)))
    return rows or [(_("Eligibility"), _("open to every enterprise"))]


def _policy_post(request, policy: Policy):
    user = request.user
    if "sync" in request.POST:
        if not policies.may_manage(user):
            raise PermissionDenied
        result = policies.sync_policy(policy, actor=user)
        messages.success(
            request,
            _("%(matched)s enterprises newly matched, %(notified)s notified.") % result,
        )
        return redirect("port:policy", pk=policy.pk)
    form = GrantActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("port:policy", pk=policy.pk)
    grant = get_visible_or_404(
        policies.grants_visible_to(user).filter(policy=policy), user, pk=form.cleaned_data["grant"]
    )
    if not policies.grant_actions(user, grant):
        raise PermissionDenied
    try:
        policies.move_grant(
            grant,
            form.cleaned_data["action"],
            user,
            amount=form.cleaned_data["amount"],
            on=form.cleaned_data["on"],
        )
    except WorkflowError as exc:
        messages.error(request, str(exc.message))
    except ValidationError as exc:
        messages.error(request, cooperation.validation_message(exc))
    else:
        messages.success(request, _("The policy grant is updated."))
    if user.role == roles.Role.ENTERPRISE:
        return redirect("port:policies")
    return redirect("port:policy", pk=policy.pk)
