"""Cases API: cases within scope (list, read, report) and one POST per transition, each returning the
case as it now is. Outside scope is 404 (the case is not in the queryset); a transition not allowed
from the current state or bad input is 400 with the action's Chinese message; a case changed by
someone else since the client read it (``version``) is 409. Categories are read-only reference data.
"""
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.core.api import ScopedViewSetMixin
from yiwang.core.errors import ActionError

from .. import actions
from ..console.filtersets import CaseFilterSet
from ..models import Case, Category
from . import serializers as s


class CaseViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Case.objects.all()
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def optimise(self, qs):
        return qs.select_related("category", "region", "household", "handler", "department", "merged_into")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _answer(self, case, code=status.HTTP_200_OK):
        case = self.optimise(Case.objects.filter(pk=case.pk)).get()
        return Response(s.CaseSerializer(case, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseSerializer})
    def create(self, request, *args, **kwargs):
        data = s.CaseCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        case = actions.create_case(by=request.user, **data.validated_data)
        return self._answer(case, status.HTTP_201_CREATED)

    def _transition(self, request, serializer_class, perform):
        case = self.get_object()
        data = serializer_class(data=request.data, context={"request": request, "case": case})
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        posted = d.pop("version", None)
        try:
            perform(actions.as_seen(case, posted), d)
        except ActionError as e:
            if getattr(e, "code", None) == "conflict":
                return Response({"detail": e.text, "field": None}, status=status.HTTP_409_CONFLICT)
            raise
        return self._answer(case)

    @extend_schema(request=s.NoteSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None, **kwargs):  # kwargs: the router's format suffix
        return self._transition(request, s.NoteSerializer,
                                lambda c, d: actions.accept_case(c, by=request.user, note=d["note"]))

    @extend_schema(request=s.ReasonSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, **kwargs):
        return self._transition(request, s.ReasonSerializer,
                                lambda c, d: actions.reject_case(c, by=request.user, reason=d["reason"]))

    @extend_schema(request=s.MergeSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None, **kwargs):
        return self._transition(request, s.MergeSerializer,
                                lambda c, d: actions.merge_case(c, into=d["into"], by=request.user, note=d["note"]))

    @extend_schema(request=s.AssignSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None, **kwargs):
        return self._transition(request, s.AssignSerializer, lambda c, d: actions.assign_case(
            c, by=request.user, level=d["level"], handler=d["handler"], department=d["department"], note=d["note"]))

    @extend_schema(request=s.ReasonSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None, **kwargs):
        return self._transition(request, s.ReasonSerializer,
                                lambda c, d: actions.escalate_case(c, by=request.user, reason=d["reason"]))

    @extend_schema(request=s.WhistleSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def whistle(self, request, pk=None, **kwargs):
        return self._transition(request, s.WhistleSerializer, lambda c, d: actions.whistle_case(
            c, by=request.user, departments=list(d["departments"]), note=d["note"]))

    @extend_schema(request={"application/json": s.ResolveSerializer, "multipart/form-data": s.ResolveSerializer},
                   responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None, **kwargs):
        return self._transition(request, s.ResolveSerializer, lambda c, d: actions.resolve_case(
            c, by=request.user, result=d["result"], photos=d["photos"]))

    @extend_schema(request=s.RateSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None, **kwargs):
        return self._transition(request, s.RateSerializer, lambda c, d: actions.rate_case(
            c, by=request.user, rating=d["rating"], comment=d["comment"]))

    @extend_schema(request=s.RequiredNoteSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, **kwargs):
        return self._transition(request, s.RequiredNoteSerializer,
                                lambda c, d: actions.close_case(c, by=request.user, note=d["note"]))

    @extend_schema(request=s.SuperviseSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def supervise(self, request, pk=None, **kwargs):
        return self._transition(request, s.SuperviseSerializer, lambda c, d: actions.supervise_case(
            c, by=request.user, level=d["level"], note=d["note"]))

    @extend_schema(request=s.ExtensionSerializer, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"], url_path="request-extension", url_name="request-extension")
    def request_extension(self, request, pk=None, **kwargs):
        return self._transition(request, s.ExtensionSerializer, lambda c, d: actions.request_extension(
            c, by=request.user, hours=d["hours"], reason=d["reason"]))


class CaseCategoryListView(APIView):
    """The category tree with its policy (reference data, the same for every region)."""

    @extend_schema(responses=s.CategorySerializer(many=True))
    def get(self, request):
        if not request.user.has_any("cases.view") and not request.user.has_any("cases.report"):
            return Response([])
        categories = Category.objects.select_related("parent").order_by("order", "code")
        return Response(s.CategorySerializer(categories, many=True).data)


CaseCategoryListView.scoped = True  # reads no region's records: the category list is reference data
