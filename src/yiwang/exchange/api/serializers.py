"""Serializers of the exchange API."""
from rest_framework import serializers

from ..models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_by = serializers.StringRelatedField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "sheet", "original_name", "sha256", "size", "region", "created_by", "created_at", "partial",
                  "status", "total_rows", "counts", "issue_count", "issues", "file_error", "unknown_headers",
                  "checked_at", "committed_at", "seconds", "progress"]
        read_only_fields = fields

    def get_progress(self, job):
        from ..jobs import get_progress

        return get_progress(job.pk)


class UploadSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    region = serializers.CharField(help_text="区划代码")
    file = serializers.FileField()
    partial = serializers.BooleanField(default=False)
