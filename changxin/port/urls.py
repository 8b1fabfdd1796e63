from django.urls import path

from changxin.port import views, views_cooperation, views_inspections

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

# 合作方向清单, 意见建议清单, policies (免申即享) and the pipeline export: port/views_cooperation.py
urlpatterns += [
    path("projects/export.csv", views.projects_export, name="projects-export"),
    path("cooperation/", views_cooperation.cooperation_home, name="cooperation"),
    path("cooperation/new/", views_cooperation.cooperation_new, name="cooperation-new"),
    path("cooperation/matches/<int:pk>/", views_cooperation.match_detail, name="match"),
    path("scenarios/", views_cooperation.scenarios, name="scenarios"),
    path("scenarios/new/", views_cooperation.scenario_new, name="scenario-new"),
    path("suggestions/", views_cooperation.suggestion_list, name="suggestions"),
    path("suggestions/new/", views_cooperation.suggestion_new, name="suggestion-new"),
    path("suggestions/<int:pk>/", views_cooperation.suggestion_detail, name="suggestion"),
    path("policies/", views_cooperation.policy_list, name="policies"),
    path("policies/new/", views_cooperation.policy_new, name="policy-new"),
    path("policies/<int:pk>/", views_cooperation.policy_detail, name="policy"),
]
