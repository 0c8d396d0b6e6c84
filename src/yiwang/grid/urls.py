"""Grid URLs (mounted at /grid/)."""
from django.urls import path

from . import views

app_name = "grid"
urlpatterns = [
    path("mine/", views.MyHouseholdsView.as_view(), name="mine"),
    path("workers/", views.WorkerListView.as_view(), name="worker_list"),
    path("workers/new/", views.WorkerCreateView.as_view(), name="worker_create"),
    path("workers/<int:pk>/", views.WorkerDetailView.as_view(), name="worker_detail"),
    path("workers/<int:pk>/edit/", views.WorkerEditView.as_view(), name="worker_edit"),
    path("households/<int:pk>/", views.HouseholdGridView.as_view(), name="household"),
    path("households/<int:pk>/pair/", views.PairView.as_view(), name="pair"),
    path("households/<int:pk>/unpair/", views.UnpairView.as_view(), name="unpair"),
    path("households/<int:pk>/visit/", views.VisitCreateView.as_view(), name="visit_create"),
    path("unpaired/", views.UnpairedListView.as_view(), name="unpaired"),
    path("unvisited/", views.UnvisitedListView.as_view(), name="unvisited"),
    path("visits/", views.VisitListView.as_view(), name="visit_list"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit_detail"),
    path("visits/<int:pk>/case/", views.VisitCaseView.as_view(), name="visit_case"),
    path("visits/<int:pk>/photo/", views.visit_photo, name="visit_photo"),
    path("visits/<int:pk>/thumb/", views.visit_photo, {"thumb": True}, name="visit_thumb"),
]
