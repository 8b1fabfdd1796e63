"""Demo 先锋岗, 先锋者说 and 先锋者荣 through the services: a vanguard post at the street's service
window with the members who have responsibility areas, a sharing session, and honours from the
ranking — one published (nominated by `party`, approved by the second party-staff login
`party_review`), one waiting for approval. Idempotent."""

from __future__ import annotations

from django.utils import timezone

from changxin.core.demo import DEMO_PASSWORD
from changxin.core.models import Role, User
from changxin.core.workflow import WorkflowError
from changxin.pioneers import honours, posts
from changxin.pioneers.models import Honour, PartyMember, PointTotal, SharingSession, VanguardPost


def _reviewer(staff: User) -> User:
    """A second member of party staff (honours are approved by someone other than the nominator)."""
    user, created = User.objects.get_or_create(
        username="party_review",
        defaults={"full_name": "组织部干部韩雪", "role": Role.PARTY_STAFF, "unit": staff.unit},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def load_honours_demo(orgs: dict, stdout=None) -> None:
    staff = User.objects.get(username="party")
    reviewer = _reviewer(staff)
    today = timezone.localdate()
    with_areas = list(
        PartyMember.objects.filter(areas__isnull=False).select_related("organisation").distinct()
    )
    by_org: dict = {}
    for m in with_areas:
        by_org.setdefault(m.organisation, []).append(m)
    for org, members in by_org.items():
        if not VanguardPost.objects.filter(organisation=org).exists():
            posts.create_post(
                org,
                name=f"{org.unit.name}党员先锋岗",
                place=org.unit,
                window="便民服务窗口",
                members=members[:3],
                starts_on=today.replace(month=1, day=1),
                actor=staff,
            )
        if not SharingSession.objects.filter(organisation=org).exists():
            posts.record_session(
                org,
                held_on=today,
                topic="接诉即办一线经验分享",
                speakers=members[:1],
                attendees=list(org.members.all()[:8]),
                summary="分享老旧小区停车难问题从接诉到主动治理的处置经过，交流入户走访的做法。",
                actor=staff,
            )
    # honours: the leaders of the year's ranking, each within their own organisation
    if not Honour.objects.filter(year=today.year).exists():
        leaders = {}
        for total in (
            PointTotal.objects.filter(year=today.year, total__gt=0)
            .select_related("member__organisation")
            .order_by("-total")
        ):
            leaders.setdefault(total.member.organisation_id, total.member)
        for i, member in enumerate(list(leaders.values())[:2]):
            try:
                h = honours.nominate(
                    member,
                    today.year,
                    citation="接诉即办按时办结、群众满意，主动认领责任区问题。",
                    actor=staff,
                )
            except WorkflowError:
                continue
            if i == 0:
                h = honours.step(h, "approve", reviewer)
                honours.step(h, "publish", staff)
    if stdout is not None:
        stdout.write(
            f"demo honours: {VanguardPost.objects.count()} posts, {SharingSession.objects.count()} sessions, "
            f"{Honour.objects.count()} honours"
        )
