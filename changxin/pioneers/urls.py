from django.urls import path

from changxin.pioneers import views

app_name = "pioneers"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/<int:pk>/", views.organisation, name="organisation"),
    path("members/<int:pk>/", views.member, name="member"),
    path("members/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("members/<int:pk>/take/", views.take_demand, name="take"),
    path("members/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("members/<int:pk>/adjustments/<int:adjustment_pk>/decide/", views.decide, name="decide"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/step/", views.step, name="step"),
    path("cases/<int:pk>/record/", views.record, name="record"),
]
