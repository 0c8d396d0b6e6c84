"""Grid serializers: reads name households by 户号, grids by code and persons by name only (the ID
number stays masked); writes are validated by the actions."""
from rest_framework import serializers

from yiwang.people.models import Household

from ..models import GridWorker, Pairing, Visit


class GridWorkerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name", read_only=True)
    id_number = serializers.CharField(source="person.id_masked", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grids = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    party_member = serializers.BooleanField(source="is_party_member", read_only=True)

    class Meta:
        model = GridWorker
        fields = ["id", "name", "id_number", "grid", "grids", "kind", "party_member", "start_date", "end_date"]
        read_only_fields = fields


class PairingSerializer(serializers.ModelSerializer):
    household = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Pairing
        fields = ["id", "household", "worker", "start_date", "end_date"]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    household = serializers.SlugRelatedField(slug_field="number", read_only=True)
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "household", "worker", "date", "kind", "findings", "has_photo", "latitude", "longitude", "case"]
        read_only_fields = fields

    def get_has_photo(self, obj) -> bool:
        return bool(obj.photo)


class _ScopedRefs(serializers.Serializer):
    """Households and workers can be named only inside the caller's scope: others read as missing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["household"].queryset = Household.objects.visible_to(request.user)
            self.fields["worker"].queryset = GridWorker.objects.visible_to(request.user)


class PairWriteSerializer(_ScopedRefs):
    household = serializers.SlugRelatedField(slug_field="number", queryset=Household.objects.none())
    worker = serializers.PrimaryKeyRelatedField(queryset=GridWorker.objects.none())
    start_date = serializers.DateField(required=False)


class VisitWriteSerializer(_ScopedRefs):
    household = serializers.SlugRelatedField(slug_field="number", queryset=Household.objects.none())
    worker = serializers.PrimaryKeyRelatedField(queryset=GridWorker.objects.none())
    date = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, required=False)
    findings = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    photo = serializers.FileField(required=False)
    latitude = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    longitude = serializers.CharField(required=False, allow_blank=True, allow_null=True)
