"""Serializers of the exchange API."""
from rest_framework import serializers

from ..models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_by = serializers.StringRelatedField()
    progress = serializers.SerializerMethodField()
    issues = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "sheet", "original_name", "sha256", "size", "region", "created_by", "created_at", "partial",
                  "status", "total_rows", "counts", "issue_count", "issues", "file_error", "unknown_headers",
                  "checked_at", "committed_at", "seconds", "progress"]
        read_only_fields = fields

    def get_issues(self, job) -> list:
        """The rejected cells; ID numbers and phones masked for those who may not see them in full there."""
        from yiwang.core.permissions import allowed

        from ..sheets import get_sheet
        from ..views import masked_issues

        sheet = get_sheet(job.sheet)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not sheet.personal_data or (user is not None and allowed(user, "pii.reveal", job.region_path)):
            return job.issues
        return masked_issues(sheet, job.issues)

    def get_progress(self, job):
        from ..jobs import get_progress

        return get_progress(job.pk)


class UploadSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    region = serializers.CharField(help_text="区划代码")
    file = serializers.FileField()
    partial = serializers.BooleanField(default=False)
