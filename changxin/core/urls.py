from django.contrib.auth import views as auth_views
from django.urls import path

from changxin.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("units/", views.unit_list, name="units"),
    path("units/<str:code>/", views.unit_detail, name="unit-detail"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),  # load balancer / monitoring probe
]
