from django.urls import path

from vuoro.paging import views

app_name = "paging"

urlpatterns = [
    path("ack/<str:token>/", views.acknowledge_by_link, name="ack"),
    path("<int:page_id>/acknowledge/", views.acknowledge_at_desk, name="acknowledge"),
    path("tickets/<str:reference>/open/", views.open_at_desk, name="open"),
]
