from django.urls import path

from changxin.insight import board_views, proactive_views, views

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
    # 未诉先办 and 每月一题 (insight/proactive_views.py)
    path("hotspots/<int:pk>/task/", proactive_views.create_task, name="proactive-create"),
    path("hotspots/<int:pk>/monthly/", proactive_views.propose, name="monthly-propose"),
    path("proactive/", proactive_views.task_list, name="proactive"),
    path("proactive/<int:pk>/take/", proactive_views.take, name="proactive-take"),
    path("monthly/", proactive_views.monthly_page, name="monthly"),
    path("monthly/<int:pk>/", proactive_views.problem, name="monthly-problem"),
    path("monthly/<int:pk>/act/", proactive_views.problem_act, name="monthly-act"),
    path("monthly/<int:pk>/task/", proactive_views.problem_task, name="monthly-task"),
    path("public/monthly/", proactive_views.public_month, name="monthly-public"),
    # dashboards and the monthly report (board_views.py, docs/DASHBOARDS.md)
    path("dashboards/", board_views.district, name="dashboard"),
    path("dashboards/street/", board_views.streets, name="dashboard-streets"),
    path("dashboards/street/<str:code>/", board_views.street, name="dashboard-street"),
    path("dashboards/enterprise/", board_views.enterprise, name="dashboard-enterprise"),
    path("dashboards/party/", board_views.party, name="dashboard-party"),
    path("reports/", board_views.report_list, name="reports"),
    path("reports/request/", board_views.report_request, name="report-request"),
    path("reports/<int:pk>/", board_views.report_status, name="report"),
    path("reports/<int:pk>/<slug:kind>/", board_views.report_file, name="report-file"),
]
