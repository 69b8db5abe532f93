from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from . import views
from .payments.urls import webhook_urlpatterns

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("csp-report/", views.csp_report, name="csp_report"),
    path("neighborhoods.geojson", views.neighborhoods_geojson, name="neighborhoods_geojson"),
    path("console/", admin.site.urls),
    # Open311 is an API: one address, no language prefix.
    path("", include("code_enforcement.open311_urls")),
    *webhook_urlpatterns,
]

urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("", include("portal.urls")),
    path("", include("alerts.urls")),
    path("", include("permits.urls")),
    path("", include("code_enforcement.urls")),
    path("", include("kpis.urls")),
    path("", include("cityhall.payments.urls")),
    prefix_default_language=False,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "cityhall.views.bad_request"
handler403 = "cityhall.views.permission_denied"
handler404 = "cityhall.views.page_not_found"
handler500 = "cityhall.views.server_error"
