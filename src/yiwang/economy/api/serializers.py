"""Economy serializers. Reads name villages and projects by code, months as "2023-05" and money as
strings with two decimals (yuan). Writes only collect input — every rule (amount format, month not in
the future, category, permission) is in ``economy.actions``, so money, months and dates arrive as text
and the action's Chinese message names the field. Villages and projects named in a request are looked
up within the user's scope: naming one outside it reads exactly like naming one that does not exist.

Related lists (a pool's shares, a run's allocations, an enterprise's partnerships) hold only the rows
the user sees: the viewsets prefetch them through ``visible_to`` into ``visible_*`` attributes.
"""
from rest_framework import serializers

from yiwang.areas.models import Region

from ..models import (
    DividendAllocation, DividendRun, Enterprise, IncomeEntry, Partnership, PartnershipYear, PooledProject, PoolShare,
    Project, VillagePairing,
)

MONEY = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True, "read_only": True}


class MonthField(serializers.DateField):
    """A ledger month as "2023-05" (stored as its first day)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


def _code(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


class ProjectSerializer(serializers.ModelSerializer):
    village = _code()
    village_name = serializers.CharField(source="village.short_name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    zone = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Project
        fields = ["id", "code", "name", "village", "village_name", "kind", "kind_display", "status", "status_display",
                  "start_date", "end_date", "location", "latitude", "longitude", "zone", "product", "is_base",
                  "description"]
        read_only_fields = fields


class IncomeEntrySerializer(serializers.ModelSerializer):
    village = _code()
    village_name = serializers.CharField(source="village.short_name", read_only=True)
    project = _code(allow_null=True)
    month = MonthField(read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    amount = serializers.DecimalField(**MONEY)
    reversed_by = serializers.SerializerMethodField(help_text="冲销它的分录 id（未冲销为 null）")
    reviewed = serializers.SerializerMethodField()
    entered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncomeEntry
        fields = ["id", "village", "village_name", "project", "month", "category", "category_display", "amount",
                  "source_document", "note", "reverses", "reversed_by", "entered_by", "entered_at", "reviewed",
                  "reviewed_by", "reviewed_at"]
        read_only_fields = fields

    def get_reversed_by(self, obj) -> int | None:
        reversal = getattr(obj, "reversal", None) if obj.reverses_id is None else None
        return reversal.pk if reversal is not None else None

    def get_reviewed(self, obj) -> bool:
        return obj.reviewed_at is not None


class ShareSerializer(serializers.ModelSerializer):
    village = _code()
    village_name = serializers.CharField(source="village.short_name", read_only=True)
    capital = serializers.DecimalField(**MONEY)

    class Meta:
        model = PoolShare
        fields = ["id", "village", "village_name", "capital", "joined_on"]
        read_only_fields = fields


class PoolSerializer(serializers.ModelSerializer):
    host = _code()
    host_name = serializers.CharField(source="host.short_name", read_only=True)
    project = _code(allow_null=True)
    total_capital = serializers.DecimalField(**MONEY)
    shares = ShareSerializer(source="visible_shares", many=True, read_only=True,
                             help_text="您能看到的参与村出资（管辖范围以外的村不列出）")

    class Meta:
        model = PooledProject
        fields = ["id", "code", "name", "host", "host_name", "project", "start_date", "total_capital",
                  "guaranteed_rate", "retained_percent", "note", "shares"]
        read_only_fields = fields


class AllocationSerializer(serializers.ModelSerializer):
    village = _code()
    village_name = serializers.CharField(source="village.short_name", read_only=True)
    capital = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = DividendAllocation
        fields = ["id", "village", "village_name", "capital", "amount", "entry"]
        read_only_fields = fields


class DividendRunSerializer(serializers.ModelSerializer):
    pool_code = serializers.CharField(source="pool.code", read_only=True)
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    post_month = MonthField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    distributable = serializers.DecimalField(**MONEY)
    retained = serializers.DecimalField(**MONEY)
    guarantee_topup = serializers.DecimalField(**MONEY)
    payout = serializers.DecimalField(**MONEY)
    allocations = AllocationSerializer(source="visible_allocations", many=True, read_only=True,
                                       help_text="您能看到的参与村分配（管辖范围以外的村不列出）")

    class Meta:
        model = DividendRun
        fields = ["id", "pool", "pool_code", "pool_name", "year", "post_month", "status", "status_display",
                  "distributable", "retained", "guarantee_topup", "payout", "reverses", "note", "created_at",
                  "approved_at", "allocations"]
        read_only_fields = fields


class VillagePairingSerializer(serializers.ModelSerializer):
    strong = _code(allow_null=True)
    strong_label = serializers.CharField(read_only=True, help_text="帮带村名称（外镇的村按填写的名称）")
    weak = _code()
    weak_name = serializers.CharField(source="weak.short_name", read_only=True)
    cross_town = serializers.BooleanField(source="is_cross_town", read_only=True)

    class Meta:
        model = VillagePairing
        fields = ["id", "strong", "strong_label", "weak", "weak_name", "cross_town", "measures", "start_date",
                  "end_date"]
        read_only_fields = fields


class PartnershipYearSerializer(serializers.ModelSerializer):
    produce_sales = serializers.DecimalField(**MONEY)
    collective_income = serializers.DecimalField(**MONEY)

    class Meta:
        model = PartnershipYear
        fields = ["year", "produce_sales", "jobs", "collective_income"]
        read_only_fields = fields


class PartnershipSerializer(serializers.ModelSerializer):
    village = _code()
    village_name = serializers.CharField(source="village.short_name", read_only=True)
    project = _code(allow_null=True)
    investment = serializers.DecimalField(allow_null=True, **MONEY)
    years = PartnershipYearSerializer(many=True, read_only=True)

    class Meta:
        model = Partnership
        fields = ["id", "village", "village_name", "project", "start_date", "investment", "years"]
        read_only_fields = fields


class EnterpriseSerializer(serializers.ModelSerializer):
    town = _code()
    partnerships = PartnershipSerializer(source="visible_partnerships", many=True, read_only=True,
                                         help_text="您能看到的村企结对（管辖范围以外的村不列出）")

    class Meta:
        model = Enterprise
        fields = ["id", "name", "credit_code", "industry", "town", "note", "partnerships"]
        read_only_fields = fields


# --------------------------------------------------------------------------- writes (input only)


class _ScopedLookups:
    """Restrict the related querysets of a write serializer to the requesting user's scope."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if "village" in self.fields:
            self.fields["village"].queryset = (Region.objects.visible_to(user).filter(kind=Region.Kind.VILLAGE)
                                               if user is not None else Region.objects.none())
        if "project" in self.fields:
            self.fields["project"].queryset = (Project.objects.visible_to(user) if user is not None
                                               else Project.objects.none())


def _text(help_text="", **kwargs):
    return serializers.CharField(required=False, allow_blank=True, default="", help_text=help_text, **kwargs)


class ProjectWriteSerializer(_ScopedLookups, serializers.Serializer):
    village = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.none(),
                                           help_text="嘎查村的区划代码（12 位）")
    code = serializers.CharField(help_text="项目编号，如 XM-150627105999-09")
    name = serializers.CharField(help_text="项目名称")
    kind = serializers.CharField(help_text="类型：breeding 或“养殖”等")
    status = _text("状态：operating 或“运营”等；空为运营")
    start_date = serializers.CharField(help_text="开始日期，如 2023-05-01")
    end_date = _text("终止日期；可空")
    location = _text("地点")
    latitude = _text("纬度")
    longitude = _text("经度")
    zone = _text("产业布局名称（本镇的）；可空")
    product = _text("一村一品")
    is_base = serializers.BooleanField(required=False, default=False, help_text="规模化基地")
    description = _text("简介")


class IncomeEntryWriteSerializer(_ScopedLookups, serializers.Serializer):
    village = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.none(),
                                           help_text="嘎查村的区划代码（12 位）")
    month = _text("月份，如 2023-05 或 2023年5月")
    category = _text("收入类别：operating / investment / contract / subsidy / other（或其中文名称）")
    amount = _text("金额（元），字符串，最多两位小数，如 \"12500.00\"")
    project = serializers.SlugRelatedField(slug_field="code", queryset=Project.objects.none(), required=False,
                                           allow_null=True, default=None, help_text="项目编号；可空")
    source_document = _text("凭证号")
    note = _text("摘要")


class ReversalReasonSerializer(serializers.Serializer):
    reason = _text("冲销原因（必填）")


class PreviewSerializer(serializers.Serializer):
    year = _text("分红年度，如 2023")
    distributable = _text("可分配收益（元），字符串，如 \"600000.00\"")


class ProposeSerializer(PreviewSerializer):
    post_month = _text("入账月份，如 2023-12；空为该年 12 月（当年则为本月）")
    note = _text("说明")


class PreviewPartSerializer(serializers.Serializer):
    village = serializers.CharField()
    village_name = serializers.CharField()
    capital = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    exact = serializers.CharField(help_text="按出资比例的精确份额（元，分数形式）")


class PreviewResultSerializer(serializers.Serializer):
    pool = serializers.IntegerField()
    year = serializers.IntegerField()
    distributable = serializers.DecimalField(**MONEY)
    retained = serializers.DecimalField(**MONEY)
    guarantee_topup = serializers.DecimalField(**MONEY)
    payout = serializers.DecimalField(**MONEY)
    parts = PreviewPartSerializer(many=True)
    parts_hidden = serializers.IntegerField(help_text="管辖范围以外、未列出的参与村个数")


class ReviewStateSerializer(serializers.Serializer):
    reviewed = serializers.BooleanField()
    reviewed_by = serializers.CharField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    can_review = serializers.BooleanField(help_text="当前用户能否审核")


class ApproveStateSerializer(serializers.Serializer):
    status = serializers.CharField()
    can_approve = serializers.BooleanField(help_text="当前用户能否审批入账（须待审批且有 economy.approve）")
