from changxin.core import roles
from changxin.core.navigation import sections_for

CARE_COOKIE = "changxin_care"  # set by static/js/care.js


def navigation(request):
    """The top navigation: the sections every app declares in its AppConfig (core/navigation.py)."""
    user = getattr(request, "user", None)
    return {"nav_sections": sections_for(user, request.path)}


def care_mode(request):
    """关怀版 for older citizens: offered to the public (anonymous, citizens, enterprises), kept per
    browser in a cookie that static/js/care.js sets; base.html marks <html class="care">."""
    user = getattr(request, "user", None)
    offered = not roles.is_staff_side(user)
    return {"care_offered": offered, "care_mode": offered and request.COOKIES.get(CARE_COOKIE) == "1"}
