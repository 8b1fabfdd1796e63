from django.urls import path

from changxin.station import views

app_name = "station"

urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submit/done/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track_status, name="track-status"),
    path("intake/", views.intake, name="intake"),
    path("intake/caller/", views.caller_history, name="caller-history"),
    path("options/communities/", views.community_options, name="community-options"),
    path("options/categories/", views.category_options, name="category-options"),
]
