"""Phone case pages (under /cases/m/); names start with "m_" beside the staff console's."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="m_home"),
    path("report/", views.report, name="m_report"),
    path("report/duplicates/", views.duplicates, name="m_duplicates"),
    path("mine/", views.mine, name="m_mine"),
    path("track/", views.track, name="m_track"),
    path("c/<int:pk>/", views.case_page, name="m_case"),
    path("c/<int:pk>/done/", views.report_done, name="m_report_done"),
    path("c/<int:pk>/photo/", views.case_photo, name="m_case_photo"),
]
