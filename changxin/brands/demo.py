"""Demo brands and practice cases (data/demo/brands.json), built through the services: drafted by a
branch secretary or party staff, submitted, and published by a different member of party staff (four
eyes); one brand waits for approval and one is a draft. Cases are dated relative to today, so their
results come from the demand demo's demands of the same area."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from changxin.brands import services
from changxin.brands.models import Brand, BrandState
from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, User
from changxin.pioneers.models import PartyOrganisation


@transaction.atomic
def load_demo(stdout=None) -> list[Brand]:
    today = timezone.localdate()
    made = []
    for row in demo_data("brands", "brands.json")["brands"]:
        if Brand.objects.filter(name=row["name"]).exists():
            continue
        drafter = User.objects.get(username=row["drafter"])
        approver = User.objects.get(username=row["approver"])
        brand = services.create_brand(
            owner=PartyOrganisation.objects.get(name=row["owner"]),
            name=row["name"],
            field=row["field"],
            slogan=row["slogan"],
            description=row["description"],
            street=OrgUnit.objects.get(code=row["street"]),
            actor=drafter,
        )
        for c in row["cases"]:
            case = services.add_case(
                brand,
                title=c["title"],
                summary=c["summary"],
                area=OrgUnit.objects.get(code=c["area"]),
                starts_on=today + dt.timedelta(days=c["starts"]),
                ends_on=today + dt.timedelta(days=c["ends"]),
                actor=drafter,
            )
            if c["state"] != BrandState.DRAFT:
                services.case_step(case, "submit", drafter)
        if row["state"] != BrandState.DRAFT:
            services.brand_step(brand, "submit", drafter)
        if row["state"] == BrandState.PUBLISHED:
            services.brand_step(brand, "publish", approver)  # publishes its submitted cases too
        made.append(brand)
    if stdout is not None:
        stdout.write(f"brands: {Brand.objects.count()} brands, {len(made)} new")
    return made
