from django.urls import path

from vuoro.channels import views

app_name = "channels"

urlpatterns: list = [
    path("inbound/<int:mailbox_id>/", views.inbound, name="inbound"),
]
