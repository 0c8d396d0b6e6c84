"""Request middleware: audit context (IP, channel) and login-required by default.

Every page needs a signed-in user unless its view is marked with Django's ``login_not_required``.
The API, Open311 and static files answer for themselves (DRF returns 403 JSON, not a redirect).
"""
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import resolve
from django.urls.exceptions import Resolver404

from .context import request_context

OPEN_PREFIXES = ("/api/", "/open311/", "/static/", "/i18n/")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip = request.META.get("REMOTE_ADDR")
        channel = "api" if request.path.startswith("/api/") else "web"
        with request_context(ip=ip, channel=channel):
            return self.get_response(request)


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or request.path.startswith(OPEN_PREFIXES):
            return None
        if not getattr(view_func, "login_required", True):
            return None
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


def is_public_path(path):
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return not getattr(match.func, "login_required", True)
