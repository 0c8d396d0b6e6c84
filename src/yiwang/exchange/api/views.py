"""Exchange API: upload (a dry run starts at once), follow a job, confirm it, download its error
workbook; sheet templates and exports. Jobs are scoped by their region like everything else."""
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.areas.actions import get_region
from yiwang.core.api import ScopedViewSetMixin
from yiwang.core.errors import ActionError
from yiwang.core.permissions import require

from .. import actions, jobs, tasks
from ..models import ImportJob
from ..sheets import all_sheets, get_sheet
from ..views import xlsx_response
from ..workbook import export_filename, template
from .serializers import ImportJobSerializer, UploadSerializer


class ImportJobViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["sheet", "status"]

    def optimise(self, qs):
        return qs.select_related("region", "created_by")

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={202: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        region = get_region(d["region"], user=request.user)
        jobs.validate_upload_name(d["file"].name)
        job = actions.upload(sheet_key=d["sheet"], data=d["file"].read(), name=d["file"].name, region=region,
                             by=request.user, partial=d["partial"])
        return self._dispatched(request, job, commit=False)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None, format=None):
        job = self.get_object()
        if job.status != ImportJob.Status.CHECKED:
            raise ActionError(f"该导入当前状态为“{job.get_status_display()}”，只有预览通过的导入可以确认", field="status")
        # refused here (403, audited), not later on a worker where nobody would hear of it
        require(request.user, get_sheet(job.sheet).change_permission, job.region_path, action="exchange.commit",
                obj=job)
        return self._dispatched(request, job, commit=True)

    def _dispatched(self, request, job, *, commit):
        """202 with the job as it stands; a background thread starts once this answer has been sent (as on
        the pages: the request's own writes at its end would otherwise meet the thread's first ones)."""
        response = Response(status=status.HTTP_202_ACCEPTED)
        tasks.dispatch(job, by=request.user, commit=commit, after=response)
        job.refresh_from_db()
        response.data = ImportJobSerializer(job, context={"request": request}).data
        return response

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None, format=None):
        job = self.get_object()
        return xlsx_response(actions.download(job, by=request.user, errors=True), f"错误行-{job.original_name}")


class SheetListView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response([{"key": s.key, "title": s.title,
                          "columns": [{"key": c.key, "header": c.header, "required": c.required} for c in s.columns]}
                         for s in all_sheets() if request.user.has_any(f"{s.module}.view")])


class SheetTemplateView(APIView):
    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    def get(self, request, key):
        sheet = _sheet_or_404(request, key)
        return xlsx_response(template(sheet), f"{sheet.title}-导入模板.xlsx")


class SheetExportView(APIView):
    @extend_schema(parameters=[OpenApiParameter("full", bool, description="完整身份证号码（需权限，记录审计）")],
                   responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    def get(self, request, key):
        sheet = _sheet_or_404(request, key)
        full = request.query_params.get("full") in ("1", "true")
        if full and not jobs.can_export_full(request.user, key):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("无权导出完整身份证号码")
        data = actions.export(sheet_key=key, queryset=sheet.export_for_request(request), by=request.user,
                              full_pii=full)
        return xlsx_response(data, export_filename(sheet))


def _sheet_or_404(request, key):
    try:
        sheet = get_sheet(key)
    except ActionError:
        raise Http404 from None
    if not request.user.has_any(f"{sheet.module}.view"):
        raise Http404
    return sheet


# APIViews that read only through a sheet's scoped export queryset, or no records at all
for _view in (SheetListView, SheetTemplateView, SheetExportView):
    _view.scoped = True
