"""Cases serializers: reads show the reporter's phone masked; writes only collect input — every rule is
in ``cases.actions``. Regions, households and cases named in a request are looked up within the user's
scope, so naming one outside it reads exactly like naming one that does not exist."""
from rest_framework import serializers

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.people.models import Household

from ..console.forms import handlers_for
from ..models import Case, Category, Department


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "accept_hours", "resolve_hours", "yellow_pct", "red_pct", "is_emergency",
                  "active"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    household = serializers.SlugRelatedField(slug_field="number", read_only=True)
    handler = serializers.SlugRelatedField(slug_field="username", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True)
    reporter_phone = serializers.CharField(source="reporter_phone_masked", read_only=True)
    warning = serializers.SerializerMethodField(help_text="'' / yellow / red / overdue（时限预警）")

    class Meta:
        model = Case
        fields = ["id", "number", "title", "description", "channel", "category", "region", "region_name", "household",
                  "reporter_name", "reporter_phone", "address", "latitude", "longitude", "state", "level", "handler",
                  "department", "merged_into", "reject_reason", "result", "reported_at", "accept_due", "resolve_due",
                  "accepted_at", "resolved_at", "closed_at", "rating", "rating_comment", "rated_at", "reopen_count",
                  "supervision", "supervised_at", "warning", "version"]
        read_only_fields = fields

    def get_warning(self, case) -> str:
        return case.warning(self.context.get("now"))


class _ScopedLookups:
    """Restrict the related querysets of a write serializer to the requesting user's scope."""

    scoped_fields = {}  # field name → model with visible_to

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for name, model in self.scoped_fields.items():
            self.fields[name].queryset = model.objects.visible_to(user) if user is not None else model.objects.none()


class CaseCreateSerializer(_ScopedLookups, serializers.Serializer):
    scoped_fields = {"region": Region, "household": Household}

    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(active=True))
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.none(),
                                          help_text="网格或嘎查村的区划代码")
    description = serializers.CharField(max_length=2000)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Case.Channel.choices, required=False, default=Case.Channel.GRID)
    household = serializers.SlugRelatedField(slug_field="number", queryset=Household.objects.none(), required=False,
                                             allow_null=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text="读取时的 version；若诉求已被他人改动则返回 409")


class NoteSerializer(TransitionSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RequiredNoteSerializer(TransitionSerializer):
    note = serializers.CharField(max_length=500)


class ReasonSerializer(TransitionSerializer):
    reason = serializers.CharField(max_length=500)


class MergeSerializer(_ScopedLookups, TransitionSerializer):
    scoped_fields = {"into": Case}

    into = serializers.SlugRelatedField(slug_field="number", queryset=Case.objects.none(), help_text="合并到的诉求编号")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AssignSerializer(TransitionSerializer):
    level = serializers.ChoiceField(choices=Case.Level.choices)
    handler = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True),
                                           required=False, allow_null=True, default=None)
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.filter(active=True),
                                              required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.context.get("case")
        if case is not None:  # only people who may handle this case can be named (others read as unknown)
            self.fields["handler"].queryset = handlers_for(case.region_path)


class WhistleSerializer(TransitionSerializer):
    departments = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.filter(active=True),
                                               many=True)
    note = serializers.CharField(max_length=500)


class ResolveSerializer(TransitionSerializer):
    result = serializers.CharField(max_length=2000)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                   help_text="multipart 上传的照片（可多张；类型由内容判断）")


class RateSerializer(TransitionSerializer):
    rating = serializers.ChoiceField(choices=Case.Rating.choices)
    comment = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SuperviseSerializer(TransitionSerializer):
    level = serializers.ChoiceField(choices=[("yellow", "黄牌督办"), ("red", "红牌督办")])
    note = serializers.CharField(max_length=500)


class ExtensionSerializer(TransitionSerializer):
    hours = serializers.IntegerField(min_value=1, max_value=2160)
    reason = serializers.CharField(max_length=200)
