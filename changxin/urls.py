from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from changxin.api.site import api

handler500 = "changxin.api.errors.server_error"  # the API's and Open311's own shapes on their paths

admin.site.site_header = admin.site.site_title = "长辛先锋 · Changxin Pioneer"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/v2/", include("changxin.open311.urls")),
    path("demands/", include("changxin.demands.urls")),
    path("station/", include("changxin.station.urls")),
    path("port/", include("changxin.port.urls")),
    path("insight/", include("changxin.insight.urls")),
    path("triage/", include("changxin.triage.urls")),
    path("notifications/", include("changxin.notifications.urls")),
    path("pioneers/", include("changxin.pioneers.urls")),
    path("brands/", include("changxin.brands.urls")),
    path("", include("changxin.core.urls")),
]

handler403 = "changxin.core.views.permission_denied"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
