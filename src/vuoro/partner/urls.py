from django.urls import path

from vuoro.partner import views

app_name = "partner"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("access-log/", views.access_log, name="access_log"),
    path("access-log/export.csv", views.access_log_csv, name="access_log_csv"),
    path("tickets/<str:reference>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:reference>/catch/", views.catch, name="catch"),
    path("tickets/<str:reference>/triage/", views.triage, name="triage"),
    path("tickets/<str:reference>/dispatch/", views.dispatch, name="dispatch"),
    path("tickets/<str:reference>/call/", views.call, name="call"),
    path("tickets/<str:reference>/resolve/", views.resolve, name="resolve"),
]
