"""People serializers: reads show masked ID numbers and phones; writes are validated by the actions."""
from rest_framework import serializers

from yiwang.areas.models import Region

from ..models import Household, Person, Tag


class PersonSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(source="id_masked", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)
    household = serializers.SlugRelatedField(slug_field="number", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Person
        fields = ["id", "household", "name", "name_initials", "id_number", "phone", "gender", "birth_date",
                  "political_status", "relation", "status", "status_changed_on", "registered_on", "tags"]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    village = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True)
    head = serializers.CharField(source="head.name", read_only=True, default=None)
    tags = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "number", "village", "grid", "address", "head", "registered_on", "closed_on", "tags"]
        read_only_fields = fields


class HouseholdWriteSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=30)
    village = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    grid = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), required=False,
                                        allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    registered_on = serializers.DateField()
    tags = serializers.SlugRelatedField(slug_field="code", queryset=Tag.objects.all(), many=True, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # only regions in scope can be named: others read as "does not exist"
            regions = Region.objects.visible_to(request.user)
            self.fields["village"].queryset = regions
            self.fields["grid"].queryset = regions


class HouseholdUpdateSerializer(serializers.Serializer):
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    registered_on = serializers.DateField(required=False)
    closed_on = serializers.DateField(required=False, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="code", queryset=Tag.objects.all(), many=True, required=False)


class MoveSerializer(serializers.Serializer):
    grid = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["grid"].queryset = Region.objects.visible_to(request.user).filter(kind="grid")


class PersonWriteSerializer(serializers.Serializer):
    household = serializers.SlugRelatedField(slug_field="number", queryset=Household.objects.all())
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=30)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    political_status = serializers.ChoiceField(choices=Person.Political.choices, required=False)
    relation = serializers.ChoiceField(choices=Person.Relation.choices, required=False)
    status = serializers.ChoiceField(choices=Person.Status.choices, required=False)
    registered_on = serializers.DateField()
    tags = serializers.SlugRelatedField(slug_field="code", queryset=Tag.objects.all(), many=True, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["household"].queryset = Household.objects.visible_to(request.user)


class PersonUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    political_status = serializers.ChoiceField(choices=Person.Political.choices, required=False)
    relation = serializers.ChoiceField(choices=Person.Relation.choices, required=False)
    status = serializers.ChoiceField(choices=Person.Status.choices, required=False)
    status_changed_on = serializers.DateField(required=False)
    tags = serializers.SlugRelatedField(slug_field="code", queryset=Tag.objects.all(), many=True, required=False)
