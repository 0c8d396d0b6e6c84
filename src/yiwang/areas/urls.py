"""Areas URLs."""
from django.urls import path

from . import views

app_name = "areas"
urlpatterns = [
    path("", views.RegionListView.as_view(), name="region_list"),
    path("switch/", views.switch_region, name="switch_region"),
    path("<str:code>/", views.RegionDetailView.as_view(), name="region_detail"),
    path("<str:code>/edit/", views.RegionEditView.as_view(), name="region_edit"),
    path("<str:code>/grids/new/", views.GridCreateView.as_view(), name="grid_create"),
]
