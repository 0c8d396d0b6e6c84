"""Exchange URLs."""
from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.JobListView.as_view(), name="job_list"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/commit/", views.job_commit, name="job_commit"),
    path("jobs/<int:pk>/file/", views.job_file, name="job_file"),
    path("jobs/<int:pk>/errors/", views.job_errors, name="job_errors"),
    path("templates/<str:key>/", views.sheet_template, name="template"),
    path("export/<str:key>/", views.sheet_export, name="export"),
]
