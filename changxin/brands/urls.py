from django.urls import path

from changxin.brands import views

app_name = "brands"

urlpatterns = [
    path("", views.home, name="home"),
    path("matrix.csv", views.matrix_csv, name="matrix-csv"),
    path("new/", views.brand_new, name="new"),
    path("<int:pk>/", views.brand, name="brand"),
    path("<int:pk>/step/", views.brand_step, name="step"),
    path("<int:pk>/cases/", views.case_new, name="case-new"),
    path("cases/<int:pk>/step/", views.case_step, name="case-step"),
]
