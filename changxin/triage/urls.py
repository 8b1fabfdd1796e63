from django.urls import path

from changxin.triage import views

app_name = "triage"

urlpatterns = [
    path("similar/<int:demand_pk>/", views.similar, name="similar"),
    path("reply-check/", views.reply_check, name="reply-check"),
]
