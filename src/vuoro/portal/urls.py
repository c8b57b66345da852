from django.urls import path

from vuoro.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/<slug:service_slug>/", views.new_request, name="new_request"),
    path("new/<slug:service_slug>/<slug:category_slug>/", views.new_request, name="new_request"),
    path("sent/", views.sent, name="sent"),
    path("sent/<str:token>/", views.confirmation, name="confirmation"),
    path("track/<str:token>/", views.track, name="track"),
    path("requests/", views.ticket_list, name="tickets"),
    path("requests/<str:reference>/", views.ticket_detail, name="ticket"),
]
