"""Forms of the economy registry pages (projects, pooled projects and dividends, pairings, enterprises).

They collect input only: amounts, dates and texts stay strings so that ``economy.actions`` validates
them and answers in Chinese naming the field. Every choice of a region, project or enterprise is built
from the user's scope (``visible_to``, narrowed to where the user may change economy records), so
another village is not offered and a forged one reads as "not a valid choice". Nothing here writes.
"""
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.db.models import Q

from yiwang.areas.models import Region

from ..models import Enterprise, Project, ProjectParty, Zone

DATE = {"type": "date"}
MONTH = {"type": "month"}


def _date(label, required=True, help_text=""):
    field = forms.CharField(label=label, required=False, help_text=help_text,
                            widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    field.show_required = required  # the action enforces it; the star tells the user
    return field


def _money(label, required=True, help_text="单位：元，最多两位小数"):
    field = forms.CharField(label=label, required=False, max_length=30, help_text=help_text,
                            widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    field.show_required = required
    return field


def regions_for(user, kind, perm="economy.change"):
    """Regions of ``kind`` inside the user's scope where the user holds ``perm``."""
    regions = Region.objects.visible_to(user).filter(kind=kind)
    if user.is_superuser:
        return regions.order_by("path")
    paths = user.scope_paths(perm)
    if not paths:
        return regions.none()
    return regions.filter(reduce(or_, (Q(path__startswith=p) for p in paths))).order_by("path")


def villages_for(user, perm="economy.change"):
    return regions_for(user, Region.Kind.VILLAGE, perm)


def _village_field(label="嘎查村", required=True):
    field = forms.ModelChoiceField(label=label, queryset=Region.objects.none(), to_field_name="code",
                                   required=required)
    field.label_from_instance = lambda r: r.short_name
    return field


# --------------------------------------------------------------------------- projects


class ProjectEditForm(forms.Form):
    name = forms.CharField(label="项目名称", max_length=100, required=False)
    kind = forms.ChoiceField(label="类型", choices=Project.Kind.choices)
    status = forms.ChoiceField(label="状态", choices=Project.Status.choices, initial=Project.Status.OPERATING)
    start_date = _date("开始日期")
    end_date = _date("终止日期", required=False)
    location = forms.CharField(label="地点", max_length=200, required=False)
    latitude = forms.CharField(label="纬度", max_length=20, required=False, help_text="可空；与经度同时填写")
    longitude = forms.CharField(label="经度", max_length=20, required=False)
    zone = forms.ModelChoiceField(label="产业布局", queryset=Zone.objects.none(), required=False)
    product = forms.CharField(label="一村一品", max_length=60, required=False)
    is_base = forms.BooleanField(label="规模化养殖（种植）基地", required=False)
    description = forms.CharField(label="简介", required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, village=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        towns = ([village.parent_id] if village is not None
                 else villages_for(user).values("parent_id"))
        self.fields["zone"].queryset = Zone.objects.filter(town_id__in=towns).order_by("kind", "order", "name")


class ProjectForm(ProjectEditForm):
    code = forms.CharField(label="项目编号", max_length=30, required=False, help_text="全镇唯一，如 WLNE-2023-01")
    village = _village_field()
    field_order = ["code", "name", "village"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["village"].queryset = villages_for(user)


class PartyForm(forms.Form):
    role = forms.ChoiceField(label="角色", choices=ProjectParty.Role.choices)
    name = forms.CharField(label="名称", max_length=100, required=False)
    amount = _money("金额（元）", required=False, help_text="投入或担保的金额，单位：元；可空")
    insured_heads = forms.CharField(label="参保头数", max_length=10, required=False, help_text="仅保险公司填写")
    note = forms.CharField(label="说明", max_length=200, required=False)


# --------------------------------------------------------------------------- pooled projects and dividends


class PoolForm(forms.Form):
    code = forms.CharField(label="项目编号", max_length=30, required=False)
    name = forms.CharField(label="名称", max_length=100, required=False)
    host = _village_field("所在村（基地所在）")
    project = forms.ModelChoiceField(label="依托项目", queryset=Project.objects.none(), required=False,
                                     help_text="可空；须为所在村的项目")
    start_date = _date("开始日期")
    total_capital = _money("总出资额（元）")
    guaranteed_rate = forms.CharField(label="保底收益率（%/年）", max_length=10, required=False,
                                      help_text="可空；如 6 表示每年不低于出资额的 6%")
    retained_percent = forms.CharField(label="提留比例（%）", max_length=10, required=False, initial="0",
                                       help_text="可分配收益中留作再投入的比例")
    note = forms.CharField(label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = villages_for(user)
        self.fields["project"].queryset = (Project.objects.visible_to(user, "change").select_related("village")
                                           .order_by("region_path", "code"))
        self.fields["project"].label_from_instance = lambda p: f"{p.code} {p.name}"


class ShareForm(forms.Form):
    village = _village_field("参与村")
    capital = _money("出资额（元）")
    joined_on = _date("加入日期")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_for(user)


class DividendForm(forms.Form):
    year = forms.CharField(label="分红年度", max_length=4, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    distributable = _money("可分配收益（元）", help_text="本年度项目可分配给参与村的收益，单位：元")
    post_month = forms.CharField(label="入账月份", max_length=10, required=False,
                                 widget=forms.DateInput(attrs=MONTH),
                                 help_text="可空：往年记入当年 12 月，本年记入本月")
    note = forms.CharField(label="说明", max_length=200, required=False)

    def clean_year(self):
        value = self.cleaned_data["year"].strip()
        if not value:
            raise forms.ValidationError("分红年度不能为空")
        if not value.isdigit() or len(value) != 4:
            raise forms.ValidationError(f"分红年度“{value}”不是年份（如 2023）")
        return int(value)


class ConfirmForm(forms.Form):
    """No fields: the POST itself is the decision (审批入账)."""


class ReverseForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, required=False,
                             help_text="必填；记入审计日志和冲销分录的摘要")
    reason.show_required = True


# --------------------------------------------------------------------------- pairings


class PairingForm(forms.Form):
    weak = _village_field("受帮村")
    strong = _village_field("帮带村（本镇）", required=False)
    strong_name = forms.CharField(label="帮带村（外镇）", max_length=100, required=False,
                                  help_text="帮带村不在本系统时填写其名称，如“某某镇某某村”")
    measures = forms.CharField(label="帮带措施", max_length=2000, required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))
    measures.show_required = True
    start_date = _date("开始日期")
    end_date = _date("结束日期", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weak"].queryset = villages_for(user)
        self.fields["strong"].queryset = Region.objects.visible_to(user).filter(kind=Region.Kind.VILLAGE).order_by("path")


class ZoneForm(forms.Form):
    """A part of the town's industry layout (四区五园十基地): an area, a park or a base."""

    town = forms.ModelChoiceField(label="镇", queryset=Region.objects.none(), to_field_name="code")
    kind = forms.ChoiceField(label="类别", choices=Zone.Kind.choices)
    name = forms.CharField(label="名称", max_length=60, required=False)
    name.show_required = True

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = regions_for(user, Region.Kind.TOWN)


class PairingEditForm(forms.Form):
    """What changes over a pairing's life: its measures, and its end (留空 = 进行中)."""

    measures = forms.CharField(label="帮带措施", max_length=2000, required=False,
                               widget=forms.Textarea(attrs={"rows": 4}))
    measures.show_required = True
    end_date = _date("结束日期", required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


# --------------------------------------------------------------------------- enterprises


class EnterpriseForm(forms.Form):
    name = forms.CharField(label="企业名称", max_length=100, required=False)
    name.show_required = True
    credit_code = forms.CharField(label="统一社会信用代码", max_length=30, required=False, help_text="18 位；可空")
    industry = forms.CharField(label="行业", max_length=60, required=False)
    town = forms.ModelChoiceField(label="所在镇", queryset=Region.objects.none(), to_field_name="code")
    note = forms.CharField(label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = regions_for(user, Region.Kind.TOWN)


class PartnershipForm(forms.Form):
    village = _village_field()
    project = forms.ModelChoiceField(label="项目", queryset=Project.objects.none(), required=False,
                                     help_text="可空；须为该村的项目")
    start_date = _date("开始日期")
    investment = _money("投资（元）", required=False, help_text="可空，单位：元")

    def __init__(self, *args, user, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        villages = villages_for(user).filter(path__startswith=enterprise.region_path)
        self.fields["village"].queryset = villages
        self.fields["project"].queryset = (Project.objects.visible_to(user, "change")
                                           .filter(village__in=villages).order_by("region_path", "code"))
        self.fields["project"].label_from_instance = lambda p: f"{p.code} {p.name}"


class PartnershipYearForm(forms.Form):
    year = forms.CharField(label="年度", max_length=4, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    year.show_required = True
    produce_sales = _money("帮销农特产品（元）", required=False, help_text="")
    jobs = forms.CharField(label="帮助就业（人次）", max_length=10, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    collective_income = _money("带动村集体收入（元）", required=False, help_text="")


class MeetingForm(forms.Form):
    town = forms.ModelChoiceField(label="镇", queryset=Region.objects.none(), to_field_name="code")
    date = _date("日期")
    title = forms.CharField(label="议题", max_length=200, required=False)
    title.show_required = True
    enterprises = forms.ModelMultipleChoiceField(label="参会企业", queryset=Enterprise.objects.none(), required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    villages = forms.ModelMultipleChoiceField(label="参会村", queryset=Region.objects.none(), required=False,
                                              to_field_name="code", widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(label="会议纪要", required=False, max_length=10000,
                              widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = regions_for(user, Region.Kind.TOWN)
        self.fields["enterprises"].queryset = Enterprise.objects.visible_to(user).order_by("name")
        self.fields["villages"].queryset = Region.objects.visible_to(user).filter(kind=Region.Kind.VILLAGE).order_by("path")
        self.fields["villages"].label_from_instance = lambda r: r.short_name


# --------------------------------------------------------------------------- list filters


class EnterpriseFilterSet(django_filters.FilterSet):
    """The enterprise list's filter (name or industry); the rows are already the user's scope."""

    q = django_filters.CharFilter(label="名称或行业", method="filter_q")

    class Meta:
        model = Enterprise
        fields = ["q"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(industry__icontains=value)) if value else queryset
