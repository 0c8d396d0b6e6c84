"""Economy API viewsets: every queryset starts from ``visible_to`` (``ScopedViewSetMixin``), and every
related list is prefetched through ``visible_to`` too, so a pool seen by one participant shows that
participant's share only. Writes call ``economy.actions``; errors answer through
``core.api.exception_handler`` (400 ``{"detail", "field"}``, 403 refused, 404 outside scope).

The order inside a write: the object (404 outside scope), then the input (400), then the action (its
permission: 403). The approver's steps (审核, 审批入账) also answer GET with whether the user may take
them, so a client can show or hide the button without trying.
"""
import datetime

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.areas.actions import normalise_code
from yiwang.areas.models import Region
from yiwang.core.api import ScopedViewSetMixin
from yiwang.core.errors import ActionError
from yiwang.core.permissions import allowed, require

from .. import actions, ledger
from ..filtersets import DividendRunFilterSet, IncomeEntryFilterSet, PairingFilterSet, PoolFilterSet, ProjectFilterSet
from ..models import (
    DividendAllocation, DividendRun, Enterprise, IncomeEntry, Partnership, PartnershipYear, PooledProject, PoolShare,
    Project, VillagePairing, Zone,
)
from . import serializers as s


def _year(value):
    """A year parameter (分红年度, 报表年度), checked here: the statement and the preview take it directly."""
    text = str(value or "").strip()
    if not text:
        raise ActionError("年度不能为空", field="year")
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise ActionError(f"年度“{text}”无效：应为 2000 到 2100 之间的年份，如 2023", field="year")
    return int(text)


def _created(serializer_class, obj):
    return Response(serializer_class(obj).data, status=status.HTTP_201_CREATED)


def _reason(request):
    data = s.ReversalReasonSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    reason = data.validated_data["reason"].strip()
    if not reason:  # checked before the action so that a missing reason is 400 whoever asks
        raise ActionError("冲销原因不能为空", field="reason")
    return reason


# --------------------------------------------------------------------------- projects


class ProjectViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Project.objects.all()
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilterSet

    def optimise(self, qs):
        return qs.select_related("village", "zone").order_by("region_path", "code")

    @extend_schema(request=s.ProjectWriteSerializer, responses={201: s.ProjectSerializer})
    def create(self, request, *args, **kwargs):
        data = s.ProjectWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        village = d.pop("village")
        zone_name = d.pop("zone").strip()
        zone = None
        if zone_name:
            zone = Zone.objects.filter(name=zone_name, town__pk=village.parent_id).first()
            if zone is None:
                raise ActionError(f"产业布局“{zone_name}”不是本镇的产业布局", field="zone")
        d["status"] = d["status"] or Project.Status.OPERATING
        d["end_date"] = d["end_date"] or None
        project = actions.create_project(village=village, zone=zone, by=request.user, **d)
        return _created(s.ProjectSerializer, project)


# --------------------------------------------------------------------------- the income ledger


class IncomeEntryViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = IncomeEntry.objects.all()
    serializer_class = s.IncomeEntrySerializer
    filterset_class = IncomeEntryFilterSet

    def optimise(self, qs):
        return qs.select_related("village", "project", "reversal", "entered_by", "reviewed_by")

    @extend_schema(request=s.IncomeEntryWriteSerializer, responses={201: s.IncomeEntrySerializer})
    def create(self, request, *args, **kwargs):
        data = s.IncomeEntryWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        entry = actions.record_income(by=request.user, **data.validated_data)
        return _created(s.IncomeEntrySerializer, entry)

    @extend_schema(request=s.ReversalReasonSerializer, responses={201: s.IncomeEntrySerializer},
                   description="冲销：写一条金额相反的分录（同月同类别），原分录保持不变。")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None, **kwargs):  # kwargs: the router's format suffix
        entry = self.get_object()
        reversal = actions.reverse_entry(entry, reason=_reason(request), by=request.user)
        return _created(s.IncomeEntrySerializer, reversal)

    @extend_schema(methods=["GET"], request=None, responses=s.ReviewStateSerializer,
                   description="该分录是否已审核，以及当前用户能否审核。")
    @extend_schema(methods=["POST"], request=None, responses=s.IncomeEntrySerializer,
                   description="审核（经管站，需 economy.approve）。")
    @action(detail=True, methods=["get", "post"])
    def review(self, request, pk=None, **kwargs):
        entry = self.get_object()
        if request.method == "GET":
            return Response({"reviewed": entry.reviewed_at is not None,
                             "reviewed_by": entry.reviewed_by.username if entry.reviewed_by else None,
                             "reviewed_at": entry.reviewed_at,
                             "can_review": entry.reviewed_at is None
                             and allowed(request.user, "economy.approve", entry.region_path)})
        entry = actions.review_entry(entry, by=request.user)
        return Response(s.IncomeEntrySerializer(entry).data)


# --------------------------------------------------------------------------- pools and dividend runs


class PoolViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PooledProject.objects.all()
    serializer_class = s.PoolSerializer
    filterset_class = PoolFilterSet

    def optimise(self, qs):
        shares = PoolShare.objects.visible_to(self.request.user).select_related("village").order_by("region_path")
        return (qs.select_related("host", "project")
                .prefetch_related(Prefetch("shares", queryset=shares, to_attr="visible_shares")).order_by("code"))

    def _pool_for_run(self, request, serializer_class):
        pool = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return pool, dict(data.validated_data)

    @extend_schema(request=s.PreviewSerializer, responses=s.PreviewResultSerializer,
                   description="按当前出资计算分红分配，不写入任何数据；只列出您管辖范围内的参与村。")
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None, **kwargs):
        pool, d = self._pool_for_run(request, s.PreviewSerializer)
        year = _year(d["year"])
        # the same permission as proposing: the preview is the first step of a run
        paths = {pool.region_path, *PoolShare.objects.filter(pool=pool).values_list("region_path", flat=True)}
        for path in sorted(paths):
            require(request.user, "economy.change", path, action="economy.preview_dividend", obj=pool)
        result = actions.preview_dividend(pool, year=year, distributable=d["distributable"])
        visible = set(PoolShare.objects.visible_to(request.user).filter(pool=pool).values_list("pk", flat=True))
        parts = [{"village": p.key.village.code, "village_name": p.key.village.short_name, "capital": p.capital,
                  "amount": p.amount, "exact": str(p.exact)} for p in result.parts if p.key.pk in visible]
        body = {"pool": pool.pk, "year": year, "distributable": result.distributable, "retained": result.retained,
                "guarantee_topup": result.guarantee_topup, "payout": result.payout, "parts": parts,
                "parts_hidden": len(result.parts) - len(parts)}
        return Response(s.PreviewResultSerializer(body).data)

    @extend_schema(request=s.ProposeSerializer, responses={201: s.DividendRunSerializer},
                   description="提出分红（待审批）：分配按当前出资计算并保存，审批后入账。")
    @action(detail=True, methods=["post"])
    def runs(self, request, pk=None, **kwargs):
        pool, d = self._pool_for_run(request, s.ProposeSerializer)
        year = _year(d["year"])  # before the action, whose permission check comes first: a missing year is 400
        run = actions.propose_dividend_run(pool, year=year, distributable=d["distributable"],
                                           post_month=d["post_month"] or None, note=d["note"], by=request.user)
        return Response(DividendRunViewSet.serialize(run, request), status=status.HTTP_201_CREATED)


class ScopedRunFilterSet(DividendRunFilterSet):
    """The runs' filters with the pool choices limited to the pools the user sees (the browsable API
    renders them as a list)."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["pool"].queryset = (PooledProject.objects.visible_to(user) if user is not None
                                         else PooledProject.objects.none())


class DividendRunViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = DividendRun.objects.all()
    serializer_class = s.DividendRunSerializer
    filterset_class = ScopedRunFilterSet

    def optimise(self, qs):
        return self._with_allocations(qs.select_related("pool"), self.request.user).order_by("pool_id", "-year", "-id")

    @staticmethod
    def _with_allocations(qs, user):
        allocations = (DividendAllocation.objects.visible_to(user).select_related("village")
                       .order_by("region_path", "pk"))
        return qs.prefetch_related(Prefetch("allocations", queryset=allocations, to_attr="visible_allocations"))

    @classmethod
    def serialize(cls, run, request):
        run = cls._with_allocations(DividendRun.objects.filter(pk=run.pk).select_related("pool"), request.user).get()
        return s.DividendRunSerializer(run).data

    @extend_schema(methods=["GET"], request=None, responses=s.ApproveStateSerializer,
                   description="该分红的状态，以及当前用户能否审批入账。")
    @extend_schema(methods=["POST"], request=None, responses=s.DividendRunSerializer,
                   description="审批入账（需 economy.approve）：每个参与村的分配记入其收入台账（投资收益）。")
    @action(detail=True, methods=["get", "post"])
    def approve(self, request, pk=None, **kwargs):
        run = self.get_object()
        paths = {run.pool.region_path, *run.allocations.values_list("region_path", flat=True)}
        if request.method == "GET":
            return Response({"status": run.status, "can_approve": run.status == DividendRun.Status.DRAFT and all(
                allowed(request.user, "economy.approve", p) for p in paths)})
        if run.status != DividendRun.Status.DRAFT:
            raise ActionError(f"该分红当前为“{run.get_status_display()}”，只有待审批的分红可以审批", field="run")
        run = actions.approve_dividend_run(run, by=request.user)
        return Response(self.serialize(run, request))

    @extend_schema(request=s.ReversalReasonSerializer, responses=s.DividendRunSerializer,
                   description="冲销已入账的分红（生成一次金额相反的冲销分红，并冲销各村的入账分录），或撤回待审批的分红。"
                               "返回冲销分红（撤回时为原分红）。")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None, **kwargs):
        run = self.get_object()
        reason = _reason(request)
        result = actions.reverse_dividend_run(run, reason=reason, by=request.user)
        return Response(self.serialize(result, request))


# --------------------------------------------------------------------------- pairings and enterprises


class VillagePairingViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = VillagePairing.objects.all()
    serializer_class = s.VillagePairingSerializer
    filterset_class = PairingFilterSet

    def optimise(self, qs):
        return qs.select_related("strong", "weak").order_by("region_path", "start_date", "pk")


class EnterpriseViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Enterprise.objects.all()
    serializer_class = s.EnterpriseSerializer
    filterset_fields = ["industry"]

    def optimise(self, qs):
        partnerships = (Partnership.objects.visible_to(self.request.user).select_related("village", "project")
                        .prefetch_related(Prefetch("years", queryset=PartnershipYear.objects.order_by("year")))
                        .order_by("region_path", "pk"))
        return (qs.select_related("town")
                .prefetch_related(Prefetch("partnerships", queryset=partnerships, to_attr="visible_partnerships"))
                .order_by("name"))


# --------------------------------------------------------------------------- the village statement


class StatementView(APIView):
    """``GET /api/economy/statement/?village=CODE&year=2022``: a village's statement for a year, a row
    per month with each category, the operating total and the total (``economy.ledger.statement``)."""

    scoped = True  # guards itself: the village comes from Region.objects.visible_to, else 404

    @extend_schema(
        parameters=[OpenApiParameter("village", str, description="嘎查村区划代码，例如 150627105999", required=True),
                    OpenApiParameter("year", int, description="年度，例如 2022；默认今年")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        code = request.query_params.get("village", "").strip()
        if not code:
            raise ActionError("请提供嘎查村区划代码 village，例如 150627105999", field="village")
        village = (Region.objects.visible_to(request.user).filter(code=normalise_code(code),
                                                                   kind=Region.Kind.VILLAGE).first())
        if village is None or not allowed(request.user, "economy.view", village.path):
            raise Http404
        year = _year(request.query_params.get("year") or datetime.date.today().year)
        st = ledger.statement(village, year)

        def money(values):
            return {c: f"{v:.2f}" for c, v in values.items()}

        return Response({
            "village": village.code, "village_name": village.short_name, "year": year,
            "months": [{"month": f"{m:%Y-%m}", "categories": money(values), "operating": f"{op:.2f}",
                        "total": f"{tot:.2f}"} for m, values, op, tot in st["months"]],
            "categories": money(st["categories"]), "operating": f"{st['operating']:.2f}",
            "total": f"{st['total']:.2f}",
        })
