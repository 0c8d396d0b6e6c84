"""Case URLs: the staff console and case pages at /cases/, phone screens at /cases/m/."""
from django.urls import include, path

app_name = "cases"
urlpatterns = [
    path("", include("yiwang.cases.console.urls")),
    path("m/", include("yiwang.cases.mobile.urls")),
]
