from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from vuoro.accounts import views as account_views
from vuoro.api.api import api
from vuoro.ops.views import healthz
from vuoro.tickets import views as ticket_views

# The admin is registered here rather than at start-up (settings: SimpleAdminConfig).
admin.autodiscover()

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", account_views.set_language, name="set_language"),
    path("account/tokens/", account_views.api_tokens, name="api_tokens"),
    path("attachments/<int:pk>/", ticket_views.attachment_download, name="attachment_download"),
    path("portal/", include("vuoro.portal.urls")),
    path("desk/", include("vuoro.desk.urls")),
    path("oncall/", include("vuoro.oncall.urls")),
    path("pages/", include("vuoro.paging.urls")),
    path("runbooks/", include("vuoro.runbooks.urls")),
    path("partner/", include("vuoro.partner.urls")),
    path("channels/", include("vuoro.channels.urls")),
    path("phone/", include("vuoro.telephony.urls")),
    path("webhooks/", include("vuoro.webhooks.urls")),
    path("notify/", include("vuoro.notify.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
