"""The API router: every app's viewsets, registered in one place so the URL walk test sees them all."""
from django.urls import path
from rest_framework.routers import DefaultRouter

from yiwang.areas.api.views import RegionViewSet
from yiwang.insights.api import MetricsView
from yiwang.people.api.views import HouseholdViewSet, PersonViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("households", HouseholdViewSet, basename="household")
router.register("persons", PersonViewSet, basename="person")

urlpatterns = [path("metrics/", MetricsView.as_view(), name="api-metrics"), *router.urls]
