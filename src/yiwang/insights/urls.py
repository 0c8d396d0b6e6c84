"""Insights URLs."""
from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [path("metrics/", views.metric_list, name="metric_list")]
