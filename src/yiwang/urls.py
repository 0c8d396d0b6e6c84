"""Root URLs: each app's pages under its prefix, the API under /api/, the OpenAPI schema and docs."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from yiwang.insights import views as insight_views

urlpatterns = [
    path("", insight_views.home, name="home"),
    path("accounts/", include("yiwang.accounts.urls")),
    path("areas/", include("yiwang.areas.urls")),
    path("people/", include("yiwang.people.urls")),
    path("grid/", include("yiwang.grid.urls")),
    path("insights/", include("yiwang.insights.urls")),
    path("exchange/", include("yiwang.exchange.urls")),
    path("cases/", include("yiwang.cases.urls")),
    path("economy/", include("yiwang.economy.urls")),
    path("open311/v2/", include("yiwang.cases.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("yiwang.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
