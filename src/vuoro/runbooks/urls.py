from django.urls import path

from vuoro.runbooks import views

app_name = "runbooks"

urlpatterns = [
    path("tickets/<str:reference>/start/", views.run_start, name="start"),
    path("runs/<int:run_id>/answer/", views.run_answer, name="answer"),
    path("runs/<int:run_id>/abandon/", views.run_abandon, name="abandon"),
    path("services/<slug:slug>/", views.service_runbooks, name="service"),
]
