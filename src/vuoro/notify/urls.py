from django.urls import path

from vuoro.notify import views

app_name = "notify"

urlpatterns = [
    path("contacts/", views.contacts, name="contacts"),
]
