"""People URLs."""
from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("households/", views.HouseholdListView.as_view(), name="household_list"),
    path("households/new/", views.HouseholdCreateView.as_view(), name="household_create"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household_detail"),
    path("households/<int:pk>/edit/", views.HouseholdEditView.as_view(), name="household_edit"),
    path("households/<int:pk>/move/", views.HouseholdMoveView.as_view(), name="household_move"),
    path("households/<int:pk>/members/new/", views.PersonCreateView.as_view(), name="person_create"),
    path("persons/", views.PersonListView.as_view(), name="person_list"),
    path("persons/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("persons/<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("persons/<int:pk>/reveal/<str:field>/", views.reveal, name="person_reveal"),
]
