"""Demo demands: a few hundred realistic Fengtai demands over the last four months, in every state.

The texts (templates of titles, messages and replies; names; notes) and the demands the demo logins
must find are data files in data/demo/ (templates.json, names.json, texts.json, featured.csv),
loaded with `core.demodata`; this module only drives the real services with them.

Every demand is created with `create_demand` and driven through `transition(..., now=<backdated
time>)`, so the timelines, deadlines, tasks and events are the real ones the engine writes. The
texts are written for this demo (no real citizen messages); requester phones are obviously fake
(1390000xxxx).

Deterministic (random.Random(seed)) apart from being anchored at the current time; idempotent:
nothing is added when demo demands (external_id "demo-…") already exist.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from changxin.core import roles
from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, Role, UnitKind, User
from changxin.demands.models import Category, Demand, DemandTask, State, TaskRole, TaskState
from changxin.demands.services import create_demand, escalate_overdue, transition
from changxin.demands.workflow import WorkflowError

DEMO_PREFIX = "demo-"
DEFAULT_COUNT = 400
DEFAULT_SEED = 20240901
DAYS_BACK = 120

# The demo logins' units (core/demo.py DEMO_USERS): they must find work in their workbench.
DEMO_OFFICERS = {
    "110106017": "lugouqiao",
    "110106011": "changxindian",
    "110106009": "fengtai",
    "110106101": "wangzuo",
    "110106D01": "chengguan",
    "110106D02": "zhujian",
}
DEMO_STREETS = ("110106017", "110106011", "110106009", "110106101")


@dataclass(frozen=True)
class Template:
    """A kind of demand the demo files (data/demo/templates.json): texts and where it goes."""

    key: str
    demand_type: str
    category: str  # "l1/l2/l3"
    routes: tuple[str, ...]  # "street" = the street/town of the location, else a unit code
    titles: tuple[str, ...]
    contents: tuple[str, ...]  # {place} is filled in
    replies: tuple[str, ...]
    urgency: str = "normal"
    whistle_to: tuple[str, ...] = ()
    weight: int = 1  # how often it is drawn for the ordinary plans


def load_templates() -> list[Template]:
    return [
        Template(
            key=item["key"],
            demand_type=item["demand_type"],
            category=item["category"],
            routes=tuple(item["routes"]),
            titles=tuple(item["titles"]),
            contents=tuple(item["contents"]),
            replies=tuple(item["replies"]),
            urgency=item.get("urgency", "normal"),
            whistle_to=tuple(item.get("whistle_to", ())),
            weight=int(item.get("weight", 1)),
        )
        for item in demo_data("demands", "templates.json")
    ]


# final states of the ordinary plans and their weights (special ones are added explicitly)
PLAN_WEIGHTS = {
    "archived": 38, "visited": 12, "replied": 8, "in_progress": 6, "contacted": 5, "acknowledged": 4,
    "dispatched": 5, "received": 3, "disputed": 2, "merged": 3, "answered": 4, "overdue": 7,
}  # fmt: skip
STAGES = [
    "received",
    "dispatched",
    "acknowledged",
    "contacted",
    "in_progress",
    "replied",
    "visited",
    "archived",
]


@dataclass
class Plan:
    index: int
    template: Template
    stage: str  # final stage, or "disputed" / "merged" / "answered" / "overdue"
    received_at: dt.datetime
    street: OrgUnit
    community: OrgUnit
    lead_code: str | None = None
    flags: set[str] = field(default_factory=set)


class DemoBuilder:
    def __init__(
        self, *, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, now: dt.datetime | None = None
    ):
        self.rnd = random.Random(seed)
        self.count = count
        self.now = now or timezone.now()
        self.failures: list[str] = []
        self.units = {u.code: u for u in OrgUnit.objects.all()}
        self.dispatcher = User.objects.get(username="dispatcher")
        # the demo 服务管家: some street demands are assigned to them in person (ASSIGNEE)
        self.manager = User.objects.filter(username="manager", is_active=True).first()
        self.officers: dict[str, User] = {}
        self.categories = {c.full_name.replace(" / ", "/"): c for c in Category.objects.filter(level=3)}
        self.streets = [u for u in self.units.values() if u.kind in roles.STREET_LEVEL_KINDS]
        self.communities: dict[int, list[OrgUnit]] = {}
        for unit in self.units.values():
            if unit.kind in roles.COMMUNITY_KINDS:
                self.communities.setdefault(unit.parent_id, []).append(unit)
        for communities in self.communities.values():
            communities.sort(key=lambda u: u.code)
        self.streets.sort(key=lambda u: u.code)
        # how well each street/unit does: drives late contacts and return-visit answers (rankings differ)
        self.quality = {code: self.rnd.uniform(0.55, 0.95) for code in sorted(self.units)}
        self.by_template: dict[str, list[Demand]] = {}
        self.templates = {t.key: t for t in load_templates()}
        # (lead unit, template, final stage) that the demo logins must find in their workbench
        self.featured = [
            (r["lead_unit"], r["template"], r["stage"]) for r in demo_data("demands", "featured.csv")
        ]
        self.names = demo_data("demands", "names.json")
        self.texts = demo_data("demands", "texts.json")

    # -- people --

    def officer(self, unit: OrgUnit) -> User:
        if unit.code in self.officers:
            return self.officers[unit.code]
        username = DEMO_OFFICERS.get(unit.code) or f"officer_{unit.code}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                full_name=self.texts["officer_name"].format(unit=unit.short_name or unit.name),
                role=Role.OFFICER,
                unit=unit,
                phone=f"1390001{len(self.officers):04d}",
            )
            user.set_unusable_password()
            user.save()
        self.officers[unit.code] = user
        return user

    def requester(self) -> tuple[str, str]:
        names = self.names
        name = self.rnd.choice(names["surnames"]) + (
            self.rnd.choice(names["titles"]) if self.rnd.random() < 0.5 else self.rnd.choice(names["given"])
        )
        return name, f"1390000{self.rnd.randint(0, 9999):04d}"

    # -- planning --

    def _location(self, street: OrgUnit | None = None) -> tuple[OrgUnit, OrgUnit]:
        if street is None:
            weights = [6 if s.code in DEMO_STREETS else 1 for s in self.streets]
            street = self.rnd.choices(self.streets, weights)[0]
        return street, self.rnd.choice(self.communities[street.pk])

    def _received_for(self, stage: str) -> dt.datetime:
        hours = {
            "received": (0.2, 4),
            "dispatched": (1, 20),
            "disputed": (0.5, 6),
            "acknowledged": (3, 30),
            "contacted": (24, 96),
            "in_progress": (48, 140),
            "replied": (72, 220),
            "visited": (120, 900),
            "archived": (200, DAYS_BACK * 24),
            "merged": (24, DAYS_BACK * 24),
            "answered": (2, DAYS_BACK * 24),
            "overdue": (12 * 24, 35 * 24),
        }[stage]
        moment = self.now - dt.timedelta(hours=self.rnd.uniform(*hours))
        local = timezone.localtime(moment)
        if local.hour < 7:  # few people call at night
            moment += dt.timedelta(hours=7 - local.hour + self.rnd.uniform(0, 2))
            moment = min(moment, self.now - dt.timedelta(minutes=5))
        return moment

    def plans(self) -> list[Plan]:
        plans: list[Plan] = []
        for lead_code, key, stage in self.featured:
            unit = self.units[lead_code]
            street, community = self._location(unit if unit.is_street_level else None)
            plans.append(
                Plan(
                    len(plans),
                    self.templates[key],
                    stage,
                    self._received_for(stage),
                    street,
                    community,
                    lead_code,
                )
            )
        keys = list(self.templates)
        weights = [t.weight for t in self.templates.values()]
        stages, stage_weights = zip(*PLAN_WEIGHTS.items(), strict=True)
        while len(plans) < self.count:
            template = self.templates[self.rnd.choices(keys, weights)[0]]
            stage = self.rnd.choices(stages, stage_weights)[0]
            if stage == "answered" and template.demand_type != "consult":
                template = self.templates[self.rnd.choice(["school", "insurance"])]
            street, community = self._location()
            plan = Plan(len(plans), template, stage, self._received_for(stage), street, community)
            r = self.rnd.random
            if stage in ("archived", "visited", "replied", "in_progress", "contacted"):
                if r() < 1 - self.quality[street.code] * 0.9:
                    plan.flags.add("late_contact")
                if r() < 0.05:
                    plan.flags.add("dispute_upheld")
                elif r() < 0.04:
                    plan.flags.add("dispute_rejected")
                if r() < 0.04:
                    plan.flags.add("co_unit")
            if stage in ("archived", "visited", "replied", "in_progress"):
                if r() < 0.08:
                    plan.flags.add("extension")
                if template.whistle_to and r() < 0.12:
                    plan.flags.add("whistle")
            if stage in ("archived", "visited", "replied") and r() < 0.05:
                plan.flags.add("late_reply")
            if stage in ("archived", "visited"):
                if r() < 0.03:
                    plan.flags.add("unreachable")
                elif r() < 0.04:
                    plan.flags.add("reopen")
                elif r() < 0.03:
                    plan.flags.add("exclude")
            plans.append(plan)
        # make sure every side path shows at least once
        ordinary = [p for p in plans if not p.lead_code and p.stage in ("archived", "visited")]
        for flag, plan in zip(
            [
                "dispute_upheld",
                "dispute_rejected",
                "extension",
                "whistle",
                "reopen",
                "unreachable",
                "exclude",
            ],
            ordinary[:: max(1, len(ordinary) // 8)],
            strict=False,
        ):
            plan.flags.add(flag)
            if flag == "whistle" and not plan.template.whistle_to:
                plan.template = self.templates["noise"]
        pending = [p for p in plans if not p.lead_code and p.stage == "in_progress"][:3]
        for plan, outcome in zip(
            pending, ["extension_pending", "whistle_open", "whistle_open"], strict=False
        ):
            plan.flags.add(outcome)
            if outcome == "whistle_open":
                plan.template = self.templates[self.rnd.choice(["garbage", "noise", "elevator"])]
        plans.sort(key=lambda p: p.received_at)
        return plans

    # -- playing a plan through the real services --

    def _lead_for(self, plan: Plan, *, exclude: str | None = None) -> OrgUnit:
        if plan.lead_code and exclude is None:
            return self.units[plan.lead_code]
        routes = [c for c in plan.template.routes if c != exclude]
        if "whistle" in plan.flags or "whistle_open" in plan.flags:
            routes = ["street"]
        code = self.rnd.choice(routes or ["street"])
        unit = plan.street if code == "street" else self.units[code]
        if exclude and unit.code == exclude:
            unit = self.units["110106D14"] if exclude != "110106D14" else plan.street
        return unit

    def _step(self, t: dt.datetime, lo_minutes: float, hi_minutes: float, office: bool = True) -> dt.datetime:
        """A later moment, during office-ish hours when `office`, never in the future."""
        nxt = t + dt.timedelta(minutes=self.rnd.uniform(lo_minutes, hi_minutes))
        if office:
            local = timezone.localtime(nxt)
            if local.hour >= 20 or local.hour < 8:
                day = local.date() + dt.timedelta(days=1 if local.hour >= 20 else 0)
                nxt = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=self.rnd.uniform(0, 90))
                )
        if nxt >= self.now:
            nxt = t + (self.now - t) * self.rnd.uniform(0.3, 0.7)
        return nxt

    def play(self, plan: Plan) -> Demand | None:
        rnd, template, dispatcher = self.rnd, plan.template, self.dispatcher
        name, phone = self.requester()
        community, street = plan.community, plan.street
        master = None
        if plan.stage == "merged":
            earlier = self.by_template.get(template.key) or []
            master = earlier[-1] if earlier else None
            if master is not None:
                community, street = master.community, master.street
        texts = self.texts
        base = community.name.removesuffix(texts["community_suffix"])
        if community.kind == UnitKind.VILLAGE:
            place = base
            lane = rnd.choice(texts["village_lanes"])
            address = texts["village_address"].format(
                street=street.name, village=base, lane=lane, number=rnd.randint(1, 80)
            )
        else:
            building = rnd.randint(1, 24)
            place = texts["building_place"].format(community=base, building=building)
            address = texts["building_address"].format(
                street=street.name, community=base, building=building, entrance=rnd.randint(1, 6)
            )
        channel = rnd.choices(["hotline", "web", "mini_program"], [75, 15, 10])[0]
        data = {
            "channel": channel,
            "demand_type": template.demand_type,
            "urgency": template.urgency,
            "title": rnd.choice(template.titles),
            "content": rnd.choice(template.contents).format(place=place),
            "category": self.categories[template.category],
            "requester_kind": "person",
            "requester_name": name,
            "requester_phone": phone,
            "address": address,
            "street": street,
            "community": community,
            "external_id": f"{DEMO_PREFIX}{plan.index:04d}",
        }
        t = plan.received_at
        demand, _ = create_demand(data, actor=dispatcher if channel == "hotline" else None, received_at=t)
        self.by_template.setdefault(template.key, []).append(demand)
        reply = rnd.choice(template.replies)

        def go(name, actor, **kwargs):
            nonlocal demand
            demand = transition(demand.pk, name, actor, now=t, **kwargs)  # the updated row, no refetch

        if plan.stage == "merged" and master is None:
            plan.stage = "archived"  # nothing earlier to merge into: an ordinary demand
        stage = plan.stage
        if stage == "received":
            return demand
        if stage == "merged" and master is not None:
            t = self._step(t, 5, 60, office=False)
            go("merge", dispatcher, note=self.texts["merge"].format(number=master.number), master=master)
            return demand
        if stage == "answered":
            t = self._step(t, 3, 15, office=False)
            go("answer", dispatcher, note=reply)
            if plan.received_at < self.now - dt.timedelta(days=2):
                t = self._step(t, 60 * 4, 60 * 30)
                go(
                    "return_visit",
                    dispatcher,
                    resolution="resolved",
                    satisfaction=rnd.choice(["satisfied", "basic"]),
                )
                if rnd.random() < 0.8:
                    t = self._step(t, 60 * 24, 60 * 72)
                    go("archive", None)
            return demand

        # dispatch
        lead = self._lead_for(plan)
        co_units = []
        if "co_unit" in plan.flags:
            co = self.units["110106D01"] if lead.code != "110106D01" else self.units["110106D14"]
            co_units = [co]
        t = self._step(t, 3, 40, office=False)
        go("dispatch", dispatcher, lead_unit=lead, co_units=co_units)
        if stage == "dispatched":
            return demand
        officer = self.officer(lead)

        if stage == "disputed" or {"dispute_upheld", "dispute_rejected"} & plan.flags:
            t = self._step(t, 2, 10, office=False)
            reason = rnd.choice(list(self.texts["dispute"]))
            go("dispute", officer, reason=reason, note=self.texts["dispute"][reason])
            if stage == "disputed":
                return demand
            t = self._step(t, 20, 120, office=False)
            if "dispute_upheld" in plan.flags:
                lead = self._lead_for(plan, exclude=lead.code)
                go("redispatch", dispatcher, lead_unit=lead, note=self.texts["redispatch"])
                officer = self.officer(lead)
            else:
                go("reject_dispute", dispatcher, note=self.texts["reject_dispute"])
        lead_only = {"whistle", "whistle_open", "extension", "extension_pending"}
        if (
            self.manager is not None
            and lead.code in DEMO_STREETS
            and plan.index % 6 == 0
            and not lead_only & plan.flags
            and demand.state == State.DISPATCHED
        ):
            t = self._step(t, 5, 60)
            go("assign", officer, assignee=self.manager.pk)
            officer = self.manager  # the 服务管家 handles it from here, as the assignee
        if demand.state == State.DISPATCHED:
            t = self._step(t, 10, 180)
            go("acknowledge", officer)
        if stage == "acknowledged":
            return demand
        if stage == "overdue" and rnd.random() < 0.3:
            return demand  # acknowledged, never contacted: contact and finish deadlines missed

        if "late_contact" in plan.flags and demand.contact_due < self.now:
            t = max(t, demand.contact_due) + dt.timedelta(minutes=rnd.uniform(30, 60 * 20))
            t = min(t, self.now - dt.timedelta(minutes=2))
        else:
            before, t = t, self._step(t, 20, 240)
            if demand.contact_due and t > demand.contact_due:  # on time: just before the deadline
                t = max(
                    demand.contact_due - dt.timedelta(minutes=rnd.uniform(5, 30)),
                    before + dt.timedelta(minutes=1),
                )
        go(
            "contact",
            officer,
            note=rnd.choice(self.texts["contact"]),
        )
        if stage == "contacted" or (stage == "overdue" and rnd.random() < 0.4):
            return demand
        t = self._step(t, 30, 600)
        go("start", officer)
        if "whistle" in plan.flags or "whistle_open" in plan.flags:
            called = [self.units[c] for c in template.whistle_to[:2]] if lead.is_street_level else []
            if called:
                t = self._step(t, 60, 60 * 24)
                go(
                    "whistle",
                    officer,
                    units=called,
                    due_days=3,
                    note=self.texts["whistle"],
                )
                for unit in called:
                    task = DemandTask.objects.filter(demand=demand, unit=unit, role=TaskRole.WHISTLE).first()
                    if "whistle_open" in plan.flags:
                        continue
                    t = self._step(t, 30, 60 * 8)
                    go("task_acknowledge", self.officer(unit), task=task.pk)
                    t = self._step(t, 60, 60 * 24)
                    go(
                        "task_complete",
                        self.officer(unit),
                        task=task.pk,
                        note=self.texts["whistle_done"],
                    )
        if co_units and demand.state != State.MERGED:
            task = DemandTask.objects.filter(
                demand=demand, role=TaskRole.CO, state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED]
            ).first()
            if task is not None:
                t = self._step(t, 60, 60 * 24)
                go("task_complete", self.officer(task.unit), task=task.pk, note=self.texts["co_done"])
        if {"extension", "extension_pending"} & plan.flags:
            t = self._step(t, 60, 60 * 24)
            go(
                "request_extension",
                officer,
                days=rnd.randint(3, 8),
                note=self.texts["request_extension"],
            )
            if "extension_pending" not in plan.flags:
                t = self._step(t, 30, 60 * 6)
                if rnd.random() < 0.75:
                    go("approve_extension", dispatcher)
                else:
                    go("deny_extension", dispatcher, note=self.texts["deny_extension"])
        if stage in ("in_progress", "overdue"):
            return demand

        if "late_reply" in plan.flags and demand.finish_due < self.now:
            t = max(t, demand.finish_due) + dt.timedelta(hours=rnd.uniform(4, 72))
            t = min(t, self.now - dt.timedelta(minutes=2))
        else:
            before, t = t, self._step(t, 60 * 3, 60 * 24 * 5)
            if demand.finish_due and t > demand.finish_due:  # on time: before the deadline
                t = max(
                    demand.finish_due - dt.timedelta(hours=rnd.uniform(1, 20)),
                    before + dt.timedelta(minutes=5),
                )
        go("reply", officer, note=reply)
        if stage == "replied":
            return demand
        self._visit(demand, plan, t, officer, reply)
        return demand

    def _visit(self, demand: Demand, plan: Plan, t: dt.datetime, officer: User, reply: str) -> None:
        rnd, dispatcher = self.rnd, self.dispatcher

        def go(name, actor, **kwargs):
            nonlocal demand
            demand = transition(demand.pk, name, actor, now=t, **kwargs)  # the updated row, no refetch

        if "unreachable" in plan.flags:
            for _ in range(3):
                t = self._step(t, 60 * 2, 60 * 20)
                go("visit_attempt", dispatcher)
        else:
            q = self.quality[demand.lead_unit.code]
            if "reopen" in plan.flags or "exclude" in plan.flags:
                resolution, satisfaction = "unresolved", "dissatisfied"
            else:
                resolution = rnd.choices(
                    ["resolved", "partly", "unresolved"], [q, (1 - q) * 0.55, (1 - q) * 0.45]
                )[0]
                satisfaction = {
                    "resolved": rnd.choices(["satisfied", "basic", "dissatisfied"], [80, 17, 3])[0],
                    "partly": rnd.choices(["satisfied", "basic", "dissatisfied"], [20, 55, 25])[0],
                    "unresolved": rnd.choices(["satisfied", "basic", "dissatisfied"], [3, 22, 75])[0],
                }[resolution]
            t = self._step(t, 60 * 2, 60 * 40)
            go("return_visit", dispatcher, resolution=resolution, satisfaction=satisfaction)
            if "exclude" in plan.flags:
                t = self._step(t, 60, 60 * 24)
                go("exclude_rating", dispatcher, note=self.texts["exclude_rating"])
            if "reopen" in plan.flags:
                t = self._step(t, 60, 60 * 24)
                go("reopen", dispatcher, note=self.texts["reopen"])
                officer = self.officer(demand.lead_unit)  # a reopened task is the unit's again
                t = self._step(t, 10, 120)
                go("acknowledge", officer)
                t = self._step(t, 20, 200)
                go("contact", officer, note=self.texts["recontact"])
                t = self._step(t, 60 * 4, 60 * 24 * 3)
                go("reply", officer, note=self.texts["reply_again"].format(reply=reply))
                t = self._step(t, 60 * 2, 60 * 30)
                go(
                    "return_visit",
                    dispatcher,
                    resolution="resolved",
                    satisfaction=rnd.choice(["satisfied", "basic"]),
                )
        if plan.stage == "archived":
            t = self._step(t, 60 * 12, 60 * 24 * 4, office=False)
            go("archive", None if rnd.random() < 0.7 else dispatcher)


def demo_demands_exist() -> bool:
    return Demand.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


def load_demo(stdout=None, *, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, now=None) -> int:
    """Create the demo demands; returns how many were created (0 when they already exist)."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    if demo_demands_exist():
        say("demo demands: already loaded, skipped")
        return 0
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        builder = DemoBuilder(seed=seed, count=count, now=now)
        created = 0
        for plan in builder.plans():
            try:
                with transaction.atomic():
                    builder.play(plan)
                created += 1
            except WorkflowError as exc:  # a step the engine refused: keep the rest of the demo
                builder.failures.append(f"{DEMO_PREFIX}{plan.index:04d} ({plan.stage}): {exc.code} {exc}")
        supervised = escalate_overdue(builder.now)
    say(
        f"demo demands: {created} created, {supervised} supervised as overdue, "
        f"{len(builder.failures)} skipped, in {time.perf_counter() - started:.1f}s "
        f"({time.process_time() - cpu:.1f}s CPU)"
    )
    for failure in builder.failures:
        say(f"  skipped {failure}")
    return created
