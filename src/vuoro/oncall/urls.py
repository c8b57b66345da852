from django.urls import path

from vuoro.oncall import views

app_name = "oncall"

urlpatterns = [
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
