from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from changxin.core.models import PUBLIC_ROLES

# The five sections of the platform (一核两翼多点 + data). A section appears as a link once its
# app serves the named URL; until then it is shown as not yet available. Staff reach 先丰站 through
# their demand-handling screens; the public through the citizen portal.
SECTIONS = [
    ("station", _("Xianfeng Station"), _("Citizen demands"), ("demands:index", "station:home")),
    ("port", _("Xianfeng Port"), _("Enterprise services"), "port:home"),
    ("pioneers", _("Pioneers"), _("Party members"), "pioneers:home"),
    ("brands", _("Brand matrix"), _("Pioneer brands"), "brands:home"),
    ("insight", _("Data"), _("Data and rankings"), "insight:home"),
]


def navigation(request):
    items = []
    path = request.path
    user = getattr(request, "user", None)
    is_staff_side = bool(
        user and user.is_authenticated and (user.is_superuser or user.role not in PUBLIC_ROLES)
    )
    for key, title, subtitle, url_name in SECTIONS:
        url = None
        names = url_name if isinstance(url_name, tuple) else (url_name,)
        if not is_staff_side:
            names = names[-1:]
        for name in names:
            try:
                url = reverse(name)
                break
            except NoReverseMatch:
                continue
        items.append(
            {
                "key": key,
                "title": title,
                "subtitle": subtitle,
                "url": url,
                "active": bool(url and url != "/" and path.startswith(url))
                or (key == "station" and path.startswith(("/station/", "/demands/"))),
            }
        )
    return {"nav_sections": items}
