"""Region serializers."""
from rest_framework import serializers

from ..models import Region


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "kind", "parent", "path", "depth", "note"]
        read_only_fields = fields


class GridCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=16)
    name = serializers.CharField(max_length=100)
