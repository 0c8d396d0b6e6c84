"""API base: scoped viewsets (NetBox's API base restricts before anything else runs) and error shape.

``ActionError`` answers 400 ``{"detail": message, "field": name}``, ``PermissionRefused`` 403; objects
outside scope are simply not in the queryset, so they answer 404.
"""
from django.db.models import Q
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ActionError, PermissionRefused


def exception_handler(exc, context):
    if isinstance(exc, ActionError):
        return Response({"detail": exc.text, "field": exc.field}, status=status.HTTP_400_BAD_REQUEST)
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
            qs = qs.filter(Q(**{f"{qs.model.scope.path_lookup}__startswith": region.path}))
        return self.optimise(qs)

    def optimise(self, qs):
        return qs
