from django.urls import path

from changxin.pioneers import views, views_branch, views_commitments, views_honours

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
    # branch life, dues, transfers, volunteering (views_branch.py)
    path("branch-life/", views_branch.compliance, name="compliance"),
    path("organisations/<int:pk>/branch-life/", views_branch.branch, name="branch"),
    path("organisations/<int:pk>/meetings/new/", views_branch.meeting_new, name="meeting-new"),
    path("meetings/<int:pk>/", views_branch.meeting, name="meeting"),
    path("organisations/<int:pk>/dues/", views_branch.dues_page, name="dues"),
    path("members/<int:pk>/dues-base/", views_branch.dues_base, name="dues-base"),
    path("members/<int:pk>/dues-payment/", views_branch.dues_pay, name="dues-pay"),
    path("transfers/", views_branch.transfer_list, name="transfers"),
    path("members/<int:pk>/transfer/", views_branch.transfer_new, name="transfer-new"),
    path("transfers/<int:pk>/", views_branch.transfer, name="transfer"),
    path("transfers/<int:pk>/step/", views_branch.transfer_step, name="transfer-step"),
    path("volunteer/", views_branch.activities, name="activities"),
    path("volunteer/new/", views_branch.activity_new, name="activity-new"),
    path("volunteer/<int:pk>/", views_branch.activity, name="activity"),
    path("volunteer/<int:pk>/act/", views_branch.activity_act, name="activity-act"),
    path("volunteer/check-in/<str:token>/", views_branch.checkin, name="checkin"),
    path("volunteer/events/<int:pk>/", views_branch.volunteer_source, name="volunteer-source"),
    # 承诺践诺 and 容错纠错 (views_commitments.py)
    path("members/<int:pk>/commitments/", views_commitments.member_commitments, name="commitments"),
    path("members/<int:pk>/commitments/new/", views_commitments.commitment_new, name="commitment-new"),
    path("commitments/<int:pk>/step/", views_commitments.commitment_step, name="commitment-step"),
    path("commitments/<int:pk>/progress/", views_commitments.commitment_progress, name="commitment-progress"),
    path("commitments/<int:pk>/rate/", views_commitments.commitment_rate, name="commitment-rate"),
    path("wall/<str:code>/", views_commitments.wall, name="wall"),
    path("members/<int:pk>/relief/", views_commitments.relief_apply, name="relief-apply"),
    path("relief/<int:pk>/decide/", views_commitments.relief_decide, name="relief-decide"),
    # 先锋岗, 先锋者荣, 先锋者说, evaluation sheets (views_honours.py)
    path("organisations/<int:pk>/posts/", views_honours.post_list, name="posts"),
    path("organisations/<int:pk>/posts/new/", views_honours.post_new, name="post-new"),
    path("posts/<int:pk>/", views_honours.post, name="post"),
    path("posts/<int:pk>/change/", views_honours.post_change, name="post-change"),
    path("organisations/<int:pk>/honours/", views_honours.honour_board, name="honours"),
    path("members/<int:pk>/nominate/", views_honours.nominate, name="nominate"),
    path("honours/<int:pk>/step/", views_honours.honour_step, name="honour-step"),
    path("honours/roll/", views_honours.honour_roll, name="roll"),
    path("organisations/<int:pk>/sharing/", views_honours.sessions, name="sessions"),
    path("organisations/<int:pk>/sharing/new/", views_honours.session_new, name="session-new"),
    path("sharing/<int:pk>/", views_honours.session, name="session"),
    path("members/<int:pk>/evaluation/", views_honours.member_evaluation, name="evaluation"),
    path("organisations/<int:pk>/evaluation.xlsx", views_honours.evaluation_export, name="evaluation-export"),
]
