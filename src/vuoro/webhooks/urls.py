from django.urls import path

from vuoro.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("handoff/<slug:service_slug>/", views.handoff_update, name="handoff_update"),
]
