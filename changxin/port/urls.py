from django.urls import path

from changxin.port import views

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
]
