"""URL map: the seed's paths at the root (a contract other teams call), the DRF API under /api/,
the console pages, and the Django admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Not django.contrib.auth.urls: its password-reset routes would promise mail nobody sends (no mail
    # server is configured) and invite address probing. Forgotten passwords: `manage.py changepassword`.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script as a file (?script): no inline script, so the
    # page works under the Content-Security-Policy (templates/drf_spectacular/ drops the inline style).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("tenancy.api.urls")),
    path("", include("tenancy.urls")),
    path("", include("health.urls")),
    path("", include("registry.urls")),
    path("", include("containers.urls")),
    path("", include("billing.urls")),
]

# Django's own error answers: JSON on the API and seed paths, the HTML pages on the console's.
handler400 = "orchestrator_site.errors.bad_request"
handler403 = "orchestrator_site.errors.permission_denied"
handler404 = "orchestrator_site.errors.page_not_found"
handler500 = "orchestrator_site.errors.server_error"
