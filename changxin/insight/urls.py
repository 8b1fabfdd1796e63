from django.urls import path

from changxin.insight import views

app_name = "insight"

urlpatterns = [
    path("", views.home, name="home"),
    path("drill/", views.drill, name="drill"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("hotspots/", views.hot_spots, name="hot-spots"),
    path("hotspots/<int:pk>/", views.hot_spot, name="hot-spot"),
    path("units/<str:code>/appeal/", views.appeal, name="appeal"),
    path("appeals/<int:pk>/<slug:action>/", views.appeal_decide, name="appeal-decide"),
    path("export/rankings/", views.export_rankings, name="export-rankings"),
    path("export/demands/", views.export_demands, name="export-demands"),
]
