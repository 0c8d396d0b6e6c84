"""Request middleware: audit context (IP, channel) and login-required by default.

Every page needs a signed-in user unless its view is marked with Django's ``login_not_required``.
The API, Open311 and static files answer for themselves (DRF returns 403 JSON, not a redirect).
"""
import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.urls import resolve
from django.urls.exceptions import Resolver404

from .context import request_context

OPEN_PREFIXES = ("/api/", "/open311/", "/static/", "/i18n/")


NUL = "\x00"


def _nul_param(pairs):
    """The first parameter whose name or value holds a NUL byte, else None."""
    for key, values in pairs:
        if NUL in key or any(isinstance(v, str) and NUL in v for v in values):
            return key.replace(NUL, "")
    return None


def _nul_in(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def _nul_in_api_body(request):
    content_type = request.content_type or ""
    if content_type == "application/json":
        if b"\\u0000" not in request.body:  # JSON carries a NUL only as the escape \u0000
            return None
        try:
            data = json.loads(request.body)
        except ValueError:
            return None  # DRF answers malformed JSON itself
        if isinstance(data, dict):
            return next((k.replace(NUL, "") for k, v in data.items() if _nul_in(k) or _nul_in(v)), None)
        return "non_field_errors" if _nul_in(data) else None
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):  # text fields, not files
        return _nul_param(request.POST.lists())
    return None


class NulByteMiddleware:
    """NUL bytes never reach the database (PostgreSQL refuses them in text: a 500 on any lookup).

    In the path the object cannot exist: 404. In a query parameter, or a field of an API request body:
    400 naming the parameter (the API's ``{"detail", "field"}``). Form posts to pages are left to their
    forms, whose text fields refuse a NUL with a message beside the field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path:
            raise Http404
        api = request.path.startswith("/api/")
        field = _nul_param(request.GET.lists())
        if field is None and api and request.method in ("POST", "PUT", "PATCH"):
            field = _nul_in_api_body(request)
        if field is not None:
            message = f"{field}：含有不可见的控制字符（NUL），请删除后重新输入。"
            if api:
                return JsonResponse({"detail": message, "field": field}, status=400,
                                    json_dumps_params={"ensure_ascii": False})
            return HttpResponseBadRequest(f"请求参数{message}", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


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
