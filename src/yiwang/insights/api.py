"""``GET /api/metrics/?region=CODE&period=P`` (or ``&asof=DATE``): every metric the user may see, as
``{"key": value, ...}``, for a region inside the user's scope (outside scope: 404)."""
import datetime

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.areas.actions import normalise_code
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError
from yiwang.core.periods import Period

from . import registry


def period_from(params, *, default_today=True):
    if params.get("period"):
        return Period.parse(params["period"])
    if params.get("asof"):
        return Period.parse("asof:" + params["asof"], field="asof")
    return Period.asof(datetime.date.today())


class MetricsView(APIView):
    scoped = True  # guards itself: the region comes from Region.objects.visible_to, else 404

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="区划代码，例如 150627105", required=True),
            OpenApiParameter("period", str, description="2022、2022H1、2022Q3、2022-05、起..止"),
            OpenApiParameter("asof", OpenApiTypes.DATE, description="截至日期，例如 2023-06-30"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        code = request.query_params.get("region", "").strip()
        if not code:
            raise ActionError("请提供区划代码 region，例如 150627105", field="region")
        region = Region.objects.visible_to(request.user).filter(code=normalise_code(code)).first()
        if region is None:
            raise Http404
        period = period_from(request.query_params)
        return Response(registry.jsonable(registry.values_for(region, period, request.user)))
