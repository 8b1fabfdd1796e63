from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from changxin.core import jobs, params, selectors
from changxin.core.models import OrgUnit, UnitKind
from changxin.core.scope import get_visible_or_404


def home(request):
    if not request.user.is_authenticated:
        return render(request, "core/welcome.html")
    return render(
        request,
        "core/home.html",
        {"panels": selectors.home_panels(request.user), "cards": selectors.home_cards(request.user)},
    )


@login_required
def unit_list(request):
    kind = params.text(request.GET.get("kind"), 20)
    q = params.text(request.GET.get("q"), 100)
    units = selectors.list_units(request.user, kind=kind if kind in UnitKind.values else "", q=q)
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/unit_list.html",
        {"page": page, "kinds": UnitKind.choices, "kind": kind, "q": q},
    )


@login_required
def unit_detail(request, code):
    unit = get_visible_or_404(
        OrgUnit.objects.select_related("parent"), request.user, code=params.text(code, 32)
    )
    children = selectors.list_units(request.user, parent=unit)
    return render(request, "core/unit_detail.html", {"unit": unit, "children": children})


# --- error pages: the site's layout, in the user's language -------------------------------------


def permission_denied(request, exception=None):
    """handler403; django-ratelimit's Ratelimited is a PermissionDenied and answers 429."""
    from django_ratelimit.exceptions import Ratelimited

    if isinstance(exception, Ratelimited):
        return ratelimited(request, exception)
    message = str(exception) if exception is not None and str(exception) else ""
    return render(request, "403.html", {"exception": message}, status=403)


def ratelimited(request, exception=None):
    """RATELIMIT_VIEW: a blocked request gets the 429 page."""
    return render(request, "429.html", status=429)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: Django's own page is in English and outside the site's layout."""
    return render(request, "403_csrf.html", status=403)


@require_GET
def favicon(request):
    """`/favicon.ico`, which browsers ask for on pages that name no icon (a PDF, the API's JSON)."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("img/favicon.svg"))


@require_GET
@never_cache
def healthz(request):
    """The load balancer's and monitoring's probe (docs/DEPLOY.md): 200 when the database (and its
    replica, if configured) answers and the job queue's store is reachable, else 503. Anonymous;
    says nothing about anyone: check names, "ok" or an error class, and the queue's length."""
    checks: dict[str, str] = {}
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            checks[f"database:{alias}"] = "ok"
        except Exception as error:  # noqa: BLE001 — any failure is the answer
            checks[f"database:{alias}"] = type(error).__name__
    queue_length = None
    try:
        queue_length = jobs.queue_length()
        checks["queue"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["queue"] = type(error).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks, "queue_length": queue_length},
        status=200 if healthy else 503,
    )
