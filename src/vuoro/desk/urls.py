from django.urls import path

from vuoro.desk import views

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("notifications/", views.notifications, name="notifications"),
    path("new/", views.new_ticket, name="new"),
    path("new/category/", views.new_ticket_category, name="new_category"),
    path("new/requesters/", views.requester_lookup, name="requester_lookup"),
    path("tickets/<str:reference>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:reference>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<str:reference>/change/", views.ticket_update, name="change"),
    path("tickets/<str:reference>/tracking-links/revoke/", views.tracking_links_revoke,
         name="revoke_tracking_links"),
]
