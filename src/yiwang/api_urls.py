"""The API router: every app's viewsets, registered in one place so the URL walk test sees them all."""
from django.urls import path
from rest_framework.routers import DefaultRouter

from yiwang.areas.api.views import RegionViewSet
from yiwang.cases.api.views import CaseCategoryListView, CaseViewSet
from yiwang.economy.api.views import (
    DividendRunViewSet, EnterpriseViewSet, IncomeEntryViewSet, PoolViewSet, ProjectViewSet, StatementView,
    VillagePairingViewSet,
)
from yiwang.exchange.api.views import ImportJobViewSet, SheetExportView, SheetListView, SheetTemplateView
from yiwang.grid.api.views import GridWorkerViewSet, PairingViewSet, VisitViewSet
from yiwang.insights.api import MetricsView
from yiwang.people.api.views import HouseholdViewSet, PersonViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("households", HouseholdViewSet, basename="household")
router.register("persons", PersonViewSet, basename="person")
router.register("imports", ImportJobViewSet, basename="import")
router.register("cases", CaseViewSet, basename="case")
router.register("grid-workers", GridWorkerViewSet, basename="grid-worker")
router.register("pairings", PairingViewSet, basename="pairing")
router.register("visits", VisitViewSet, basename="visit")
router.register("economy-projects", ProjectViewSet, basename="economy-project")
router.register("income-entries", IncomeEntryViewSet, basename="income-entry")
router.register("pools", PoolViewSet, basename="pool")
router.register("dividend-runs", DividendRunViewSet, basename="dividend-run")
router.register("village-pairings", VillagePairingViewSet, basename="village-pairing")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")

urlpatterns = [
    path("metrics/", MetricsView.as_view(), name="api-metrics"),
    path("case-categories/", CaseCategoryListView.as_view(), name="api-case-categories"),
    path("economy/statement/", StatementView.as_view(), name="api-economy-statement"),
    path("sheets/", SheetListView.as_view(), name="api-sheets"),
    path("sheets/<str:key>/template/", SheetTemplateView.as_view(), name="api-sheet-template"),
    path("sheets/<str:key>/export/", SheetExportView.as_view(), name="api-sheet-export"),
    *router.urls,
]
