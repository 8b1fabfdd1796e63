"""Demo setup: Fengtai's real divisions, the official calendar and one login per role.

Apps add their own demo data with an `AppConfig.load_demo(stdout)` hook, called in app order; an
`AppConfig.prepare_demo(stdout)` hook runs before all of them (e.g. triage's models and aliases, so
the demo demands are triaged at intake).
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from changxin.core.divisions import load_divisions
from changxin.core.models import OrgUnit, Role, User
from changxin.core.workcalendar import seed_from_chinese_calendar

DEMO_PASSWORD = "changxin-demo"

# username, full name, role, unit code (None = no unit)
DEMO_USERS = [
    ("admin", "区管理员", Role.ADMIN, "110106"),
    ("leader", "区领导", Role.LEADERSHIP, "110106"),
    ("dispatcher", "派单员王敏", Role.OPERATOR, "110106C00"),
    ("lugouqiao", "卢沟桥街道承办人李强", Role.OFFICER, "110106017"),
    ("lugouqiao_lead", "卢沟桥街道负责人周婷", Role.LEADER, "110106017"),
    ("changxindian", "长辛店街道承办人张伟", Role.OFFICER, "110106011"),
    ("fengtai", "丰台街道承办人刘洋", Role.OFFICER, "110106009"),
    ("wangzuo", "王佐镇承办人陈静", Role.OFFICER, "110106101"),
    ("chengguan", "区城管委承办人赵磊", Role.OFFICER, "110106D01"),
    ("zhujian", "区住建委承办人孙丽", Role.OFFICER, "110106D02"),
    ("manager", "服务管家吴刚", Role.SERVICE_MANAGER, "110106018"),
    ("inspector", "执法人员郑军", Role.INSPECTOR, "110106D03"),
    ("party", "组织部干部冯霞", Role.PARTY_STAFF, "110106"),
    ("citizen", "市民韩梅", Role.CITIZEN, None),
    ("enterprise", "企业联系人杨帆", Role.ENTERPRISE, None),
]


@transaction.atomic
def create_demo_users() -> list[User]:
    users = []
    for username, full_name, role, unit_code in DEMO_USERS:
        unit = OrgUnit.objects.get(code=unit_code) if unit_code else None
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name, "role": role, "unit": unit}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.phone = f"1391000{len(users):04d}"
            user.save()
        users.append(user)
    return users


def load_demo(stdout=None) -> list[User]:
    load_divisions()
    seed_from_chinese_calendar()
    users = create_demo_users()
    for name in ("prepare_demo", "load_demo"):
        for config in apps.get_app_configs():
            hook = getattr(config, name, None)
            if callable(hook):
                hook(stdout)
    return users
