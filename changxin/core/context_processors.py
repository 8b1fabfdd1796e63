from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# The five sections of the platform (一核两翼多点 + data). A section appears as a link once its
# app serves the named URL; until then it is shown as not yet available.
SECTIONS = [
    ("station", _("Xianfeng Station"), _("Citizen demands"), "station:home"),
    ("port", _("Xianfeng Port"), _("Enterprise services"), "port:home"),
    ("pioneers", _("Pioneers"), _("Party members"), "pioneers:home"),
    ("brands", _("Brand matrix"), _("Pioneer brands"), "brands:home"),
    ("insight", _("Data"), _("Data and rankings"), "insight:home"),
]


def navigation(request):
    items = []
    path = request.path
    for key, title, subtitle, url_name in SECTIONS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = None
        items.append(
            {
                "key": key,
                "title": title,
                "subtitle": subtitle,
                "url": url,
                "active": bool(url and url != "/" and path.startswith(url)),
            }
        )
    return {"nav_sections": items}
