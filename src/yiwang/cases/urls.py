"""Case URLs: the staff console and case pages at /cases/, phone screens at /cases/m/."""
from django.urls import include, path

from . import dashboard, messages_page

app_name = "cases"
urlpatterns = [
    path("rates/", dashboard.rates_page, name="rates"),
    path("messages/", messages_page.my_messages, name="messages"),
    path("", include("yiwang.cases.console.urls")),
    path("m/", include("yiwang.cases.mobile.urls")),
]
