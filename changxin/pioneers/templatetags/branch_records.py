"""`{% member_branch_records member %}`: a member's own branch-life records on their page (their
attendance, dues and arrears, transfers and volunteer sign-ups of the year). The member page has
already checked that the viewer sees the member."""

from __future__ import annotations

from django import template
from django.utils import timezone

from changxin.pioneers import dues, selectors_branch, services
from changxin.pioneers.models import Attendance, PartyMember, Transfer, VolunteerSignup

register = template.Library()


@register.inclusion_tag("pioneers/branch/_member_records.html", takes_context=True)
def member_branch_records(context, member):
    year = timezone.localdate().year
    attendance = list(
        Attendance.objects.filter(member=member, meeting__held_on__year=year)
        .select_related("meeting")
        .order_by("-meeting__held_on")
    )
    figures = dues.branch_dues(PartyMember.objects.filter(pk=member.pk), year)
    request = context.get("request")
    may_keep = bool(request is not None and services.relations_of(request.user, member.organisation))
    return {
        "may_keep": may_keep,
        "receivers": selectors_branch.receiving_choices(member.organisation) if may_keep else [],
        "today": timezone.localdate(),
        "request": request,
        "member": member,
        "year": year,
        "attended": sum(1 for a in attendance if a.present),
        "attendance": attendance[:12],
        "dues": figures["rows"][0] if figures["rows"] else None,
        "transfers": Transfer.objects.filter(member=member).select_related(
            "from_organisation", "to_organisation"
        )[:5],
        "signups": VolunteerSignup.objects.filter(member=member)
        .select_related("activity")
        .order_by("-signed_up_at")[:10],
    }
