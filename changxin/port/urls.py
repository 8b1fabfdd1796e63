from django.urls import path

from changxin.port import views, views_inspections

app_name = "port"

urlpatterns = [
    path("", views.home, name="home"),
    path("ranking/", views.ranking, name="ranking"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
    path("enterprises/<int:pk>/card/", views.contact_card, name="card"),
    path("enterprises/<int:pk>/demand/", views.file_demand, name="file-demand"),
    path("enterprises/<int:pk>/visit/", views.record_visit, name="visit"),
    path("enterprises/<int:pk>/packages/", views.packages, name="packages"),
    path("demands/<int:pk>/rate/", views.rate, name="rate"),
    path("code/<str:code>/", views.public_code, name="code"),
    path("projects/", views.projects, name="projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    # 一码检查 / 无事不扰 (views_inspections)
    path("inspections/", views_inspections.inspection_list, name="inspections"),
    path("inspections/register/", views_inspections.register, name="inspection-register"),
    path("inspections/report/", views_inspections.report, name="inspection-report"),
    path("inspections/plans/", views_inspections.plans, name="inspection-plans"),
    path("inspections/<int:pk>/", views_inspections.detail, name="inspection"),
]
