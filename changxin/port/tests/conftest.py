import pytest

from changxin.core.models import Role
from changxin.core.tests.builders import LUGOUQIAO, make_user, unit
from changxin.demands import services as demand_services
from changxin.port import services
from changxin.port.uscc import complete


def enterprise_code(n: int) -> str:
    return complete(f"91110106MA{n:07d}")


@pytest.fixture
def port_world(demo_world):
    """The demo logins plus two enterprises: 丽泽 one (卢沟桥, managed by `manager`, the demo
    `enterprise` account and a colleague as members) and another (长辛店, no manager, its own account)."""
    colleague = make_user("enterprise2", Role.ENTERPRISE, full_name="企业联系人二")
    outsider = make_user("enterprise3", Role.ENTERPRISE)
    ours = services.register_enterprise(
        {
            "name": "测试丽泽科技有限公司",
            "credit_code": enterprise_code(1),
            "street": unit(LUGOUQIAO),
            "zone": "lize",
            "is_key": True,
            "contact_name": "王丽",
            "contact_phone": "13910001001",
            "manager": demo_world["manager"],
        },
        actor=demo_world["admin"],
        members=[demo_world["enterprise"], colleague],
    )
    theirs = services.register_enterprise(
        {"name": "测试长辛店企业", "credit_code": enterprise_code(2), "street": unit("110106011")},
        actor=demo_world["admin"],
        members=[outsider],
    )
    return {**demo_world, "enterprise2": colleague, "enterprise3": outsider, "ours": ours, "theirs": theirs}


HANDLING = [
    ("acknowledge", {}),
    ("contact", {"note": "已电话联系企业"}),
    ("start", {}),
    ("reply", {"note": "已协调解决"}),
]


@pytest.fixture
def handle():
    """Walk a demand through the handling steps to REPLIED as `person` (the assigned manager)."""

    def walk(demand, person):
        for name, kwargs in HANDLING:
            demand_services.transition(demand, name, person, **kwargs)
        demand.refresh_from_db()
        return demand

    return walk
