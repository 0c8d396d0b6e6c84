"""The product's URLs plus the two ceilings of the cases benchmark, served only by bench/cases/settings.py:
``/bench/empty/`` answers at once; ``/bench/insert/`` does one raw INSERT into the same database (a
table of its own, created by run.py) and answers. Both pass through the whole middleware stack as a
product view does (sessions, CSRF-exempt POST, login-not-required, audit context, axes)."""
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from yiwang.urls import urlpatterns as product_urlpatterns

CEILING_TABLE = "bench_ceiling_insert"


@csrf_exempt
@login_not_required
def empty(request):
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
@login_not_required
def insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CEILING_TABLE} (body) VALUES (%s)", [request.body[:200].decode(errors="replace")])
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/empty/", empty),
    path("bench/insert/", insert),
    *product_urlpatterns,
]
