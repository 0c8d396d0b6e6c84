"""Table of import jobs."""
import django_tables2 as tables

from .models import ImportJob


class ImportJobTable(tables.Table):
    original_name = tables.Column(linkify=True)
    created_at = tables.DateTimeColumn(format="Y年n月j日 H:i")
    created_by = tables.Column(default="系统")
    counts = tables.TemplateColumn(
        "新增 {{ value.new|default:0 }} · 修改 {{ value.changed|default:0 }} · 未变 {{ value.unchanged|default:0 }}"
        " · 错误 {{ value.rejected|default:0 }}", orderable=False)

    def render_sheet(self, value):
        from .sheets import _sheets

        sheet = _sheets.get(value)
        return sheet.title if sheet is not None else value  # 户籍人员, not the key "households"

    class Meta:
        model = ImportJob
        fields = ("original_name", "sheet", "region", "status", "total_rows", "counts", "created_by", "created_at")
        attrs = {"class": "table table-sm table-striped"}
