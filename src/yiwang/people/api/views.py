"""People API: households and persons within scope; writes go through ``people.actions``."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yiwang.core.api import ScopedViewSetMixin

from .. import actions
from ..filtersets import HouseholdFilterSet, PersonFilterSet
from ..models import Household, Person
from . import serializers as s


class HouseholdViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       viewsets.ReadOnlyModelViewSet):
    queryset = Household.objects.all()
    serializer_class = s.HouseholdSerializer
    filterset_class = HouseholdFilterSet

    def optimise(self, qs):
        return qs.select_related("village", "grid", "head").prefetch_related("tags")

    @extend_schema(request=s.HouseholdWriteSerializer, responses=s.HouseholdSerializer)
    def create(self, request, *args, **kwargs):
        data = s.HouseholdWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        household = actions.create_household(by=request.user, **data.validated_data)
        return Response(s.HouseholdSerializer(household).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.HouseholdUpdateSerializer, responses=s.HouseholdSerializer)
    def update(self, request, *args, **kwargs):
        household = self.get_object()
        data = s.HouseholdUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        household = actions.update_household(household, by=request.user, **data.validated_data)
        return Response(s.HouseholdSerializer(household).data)

    @extend_schema(request=s.MoveSerializer, responses=s.HouseholdSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None, **kwargs):  # kwargs: the router's format suffix (move.json)
        household = self.get_object()
        data = s.MoveSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        grid = data.validated_data["grid"]
        household = actions.move_household(household, grid=grid, village=grid.parent, by=request.user)
        return Response(s.HouseholdSerializer(household).data)


class PersonViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    queryset = Person.objects.all()
    serializer_class = s.PersonSerializer
    filterset_class = PersonFilterSet

    def optimise(self, qs):
        return qs.select_related("household").prefetch_related("tags")

    @extend_schema(request=s.PersonWriteSerializer, responses=s.PersonSerializer)
    def create(self, request, *args, **kwargs):
        data = s.PersonWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        household = fields.pop("household")
        person = actions.add_person(household, by=request.user, **fields)
        return Response(s.PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PersonUpdateSerializer, responses=s.PersonSerializer)
    def update(self, request, *args, **kwargs):
        person = self.get_object()
        data = s.PersonUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        person = actions.update_person(person, by=request.user, **data.validated_data)
        return Response(s.PersonSerializer(person).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path=r"reveal/(?P<field>id_number|phone)")
    def reveal(self, request, pk=None, field=None, **kwargs):  # kwargs: format suffix
        person = self.get_object()
        return Response({field: actions.reveal(person, field=field, by=request.user)})
