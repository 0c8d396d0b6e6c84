"""Grid API viewsets: every queryset starts from ``visible_to`` (``ScopedViewSetMixin``)."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from yiwang.core.api import ScopedViewSetMixin

from .. import actions
from ..filtersets import GridWorkerFilterSet, PairingFilterSet, VisitFilterSet
from ..models import GridWorker, Pairing, Visit
from . import serializers as s


class GridWorkerViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = GridWorker.objects.all()
    serializer_class = s.GridWorkerSerializer
    filterset_class = GridWorkerFilterSet

    def optimise(self, qs):
        return qs.select_related("person", "grid").prefetch_related("grids").order_by("region_path", "pk")


class PairingViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Pairing.objects.all()
    serializer_class = s.PairingSerializer
    filterset_class = PairingFilterSet

    def optimise(self, qs):
        return qs.select_related("household").order_by("pk")

    @extend_schema(request=s.PairWriteSerializer, responses=s.PairingSerializer)
    def create(self, request, *args, **kwargs):
        data = s.PairWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        d = data.validated_data
        pairing = actions.pair_household(d["household"], d["worker"], start_date=d.get("start_date"), by=request.user)
        return Response(s.PairingSerializer(pairing).data, status=status.HTTP_201_CREATED)


class VisitViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Visit.objects.all()
    serializer_class = s.VisitSerializer
    filterset_class = VisitFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def optimise(self, qs):
        return qs.select_related("household").order_by("-date", "-pk")

    @extend_schema(request=s.VisitWriteSerializer, responses=s.VisitSerializer)
    def create(self, request, *args, **kwargs):
        data = s.VisitWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        visit = actions.record_visit(by=request.user, **data.validated_data)
        return Response(s.VisitSerializer(visit).data, status=status.HTTP_201_CREATED)
