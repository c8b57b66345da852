from django.urls import path

from vuoro.telephony import views

app_name = "telephony"

urlpatterns = [
    path("log/", views.log, name="log"),
    path("lookup/", views.lookup, name="lookup"),
    path("webhook/", views.webhook, name="webhook"),
]
