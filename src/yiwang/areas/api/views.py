"""Region API: list/detail within scope (lookup by code), and creating a grid under a village."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yiwang.core.api import ScopedViewSetMixin

from .. import actions
from ..filtersets import RegionFilterSet
from ..models import Region
from .serializers import GridCreateSerializer, RegionSerializer


class RegionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    lookup_field = "code"
    filter_backends = [DjangoFilterBackend]
    filterset_class = RegionFilterSet

    def optimise(self, qs):
        return qs.select_related("parent")

    @extend_schema(request=GridCreateSerializer, responses=RegionSerializer)
    @action(detail=True, methods=["post"])
    def grids(self, request, code=None, **kwargs):  # kwargs: the router's format suffix (grids.json)
        village = self.get_object()
        data = GridCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grid = actions.create_grid(village, by=request.user, **data.validated_data)
        return Response(RegionSerializer(grid).data, status=status.HTTP_201_CREATED)
