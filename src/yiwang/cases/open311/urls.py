"""Open311 GeoReport v2 URLs (mounted at /open311/v2/). Every resource ends in ``.<format>`` as the
specification writes it; the views answer ``json`` and refuse any other format with a 400 in the
specification's error format (rather than a bare 404 from the resolver)."""
from django.urls import re_path

from . import views

FORMAT = r"\.(?P<format>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.services, name="open311-services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + FORMAT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FORMAT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT, views.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FORMAT, views.token, name="open311-token"),
]
