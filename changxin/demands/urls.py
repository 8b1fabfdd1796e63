from django.urls import path

from changxin.demands import views

app_name = "demands"

urlpatterns = [
    path("", views.index, name="index"),
    path("queue/", views.queue, name="queue"),
    path("workbench/", views.workbench, name="workbench"),
    path("visits/", views.visits, name="visits"),
    path("overdue/", views.overdue, name="overdue"),
    path("categories/search/", views.category_search, name="category-search"),
    path("<int:pk>/", views.demand_detail, name="detail"),
    path("<int:pk>/requester/", views.reveal_requester, name="reveal-requester"),
    path("<int:pk>/quick-dispatch/", views.quick_dispatch, name="quick-dispatch"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment, name="attachment"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
]
