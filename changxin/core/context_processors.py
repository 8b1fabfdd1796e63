from changxin.core.navigation import sections_for


def navigation(request):
    """The top navigation: the sections every app declares in its AppConfig (core/navigation.py)."""
    user = getattr(request, "user", None)
    return {"nav_sections": sections_for(user, request.path)}
