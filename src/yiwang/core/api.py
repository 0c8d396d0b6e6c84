"""API base: scoped viewsets (NetBox's API base restricts before anything else runs) and error shape.

``ActionError`` and a serializer's ``ValidationError`` answer 400 ``{"detail": message, "field": name}``,
``PermissionRefused`` 403; objects outside scope are simply not in the queryset, so they answer 404.
"""
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ActionError, PermissionRefused


_LABELS = {"id_number": "身份证号码", "phone": "电话", "region": "区划代码", "period": "期间", "asof": "截至日期"}


def _first_error(detail, path=()):
    """(field name, message) of the first error in DRF's nested error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            return _first_error(value, (*path, str(key)))
    if isinstance(detail, list):
        for item in detail:
            if item:
                return _first_error(item, path)
    return (path[0] if path else None), str(detail)


def _label(context, name):
    model = getattr(getattr(context.get("view"), "queryset", None), "model", None)
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # not a model field (or no model): a known label or the name itself
        return _LABELS.get(name, name)


def exception_handler(exc, context):
    if isinstance(exc, ActionError):
        return Response({"detail": exc.text, "field": exc.field}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        # a serializer's own checks (type, length, unknown code) answer in the same shape as an action's:
        # {"detail": "<字段>：<message>", "field": name}, with every error under "errors"
        field, message = _first_error(exc.detail)
        if field in (None, api_settings.NON_FIELD_ERRORS_KEY):
            body = {"detail": message, "field": None}
        else:
            body = {"detail": f"{_label(context, field)}：{message}", "field": field}
        return Response({**body, "errors": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionRefused):
        return Response({"detail": exc.text}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


class ScopedViewSetMixin:
    """Every API viewset's queryset starts from ``visible_to``; ``?region=CODE`` narrows within scope."""

    scope_action = "view"

    def get_queryset(self):
        qs = self.queryset.model.objects.visible_to(self.request.user, self.scope_action)
        code = self.request.query_params.get("region")
        if code:
            from yiwang.areas.models import Region

            region = Region.objects.visible_to(self.request.user).filter(code=code).first()
            if region is None:
                return qs.none()
            qs = qs.filter(qs.model.scope.q(qs.model, region.path))
        return self.optimise(qs)

    def optimise(self, qs):
        return qs
