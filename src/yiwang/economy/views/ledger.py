"""Economy pages of the ledger side: the town overview, a village's statement, the income ledger, tiers
and the forecast. Scope comes from ``core.views``; writes go through ``economy.actions``."""
from django.urls import path
from django.views.generic import TemplateView

from yiwang.core.views import ScopedMixin

from ..models import Project


class OverviewView(ScopedMixin, TemplateView):
    model = Project
    template_name = "economy/ledger/overview.html"


urlpatterns = [
    path("", OverviewView.as_view(), name="overview"),
]
