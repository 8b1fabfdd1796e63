"""Demo 承诺践诺 and 容错纠错 through the services (data/demo/commitments.json): a commitment kept
(its points come from the "keep" event), one public with progress, one just published, a resident's
rating on the wall, and a relief application against a late-reply penalty when the demand demo
produced one."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from changxin.core.demodata import demo_data
from changxin.core.models import User
from changxin.pioneers import commitments
from changxin.pioneers.models import Commitment, PartyMember, PointEntry, ReliefApplication


def load_commitments_demo(stdout=None) -> None:
    data = demo_data("pioneers", "commitments.json")
    today = timezone.localdate()
    made = {}
    for row in data["commitments"]:
        member = PartyMember.objects.filter(user__username=row["login"]).first()
        if member is None or Commitment.objects.filter(member=member, title=row["title"]).exists():
            continue
        c = commitments.create_commitment(
            member, year=today.year, title=row["title"], content=row["content"], actor=member.user
        )
        c = commitments.step(c, "publish", member.user)
        for days, text in row["progress"]:
            on = max(today + dt.timedelta(days=days), today.replace(month=1, day=1))
            commitments.add_progress(c, on=on, text=text, actor=member.user)
        if row["outcome"]:
            evaluator = User.objects.get(username=row["evaluator"])
            c = commitments.step(c, row["outcome"], evaluator, rating=row["rating"], note=row["note"])
        made[row["login"]] = c
    for username, login, stars in data["ratings"]:
        if login in made:
            commitments.rate(made[login], User.objects.get(username=username), stars)
    penalty = (
        PointEntry.objects.filter(points__lt=0, member__user__isnull=False, relief__isnull=True)
        .select_related("member__user")
        .order_by("at")
        .first()
    )
    if penalty is not None and not ReliefApplication.objects.exists():
        commitments.apply_for_relief(
            penalty, reason="该件超期系跨部门会商等待答复所致，已按规定报备。", actor=penalty.member.user
        )
    if stdout is not None:
        stdout.write(
            f"demo commitments: {Commitment.objects.count()} commitments, "
            f"{ReliefApplication.objects.count()} relief applications"
        )
