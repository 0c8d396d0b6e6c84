"""Forms of the phone screens. They collect and shape input only; every rule that matters (scope,
state, photo type and size, lengths) is checked again by ``cases.actions``.

The report form offers only what the user may pick: active categories as two selects (大类, then 小类
narrowed by ``yiwang/follow-select.js``; without the script every 小类 stays and a mismatched pair is
refused here), the grids and villages where the user holds ``cases.report``, and — for grid workers
only — the households of those grids. A value from outside those lists (another village's grid, an
unknown category id, a household elsewhere) is an "invalid choice" with a Chinese message, before any
action runs.
"""
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, Value, When

from yiwang.areas.models import Region
from yiwang.people.models import Household

from ..actions import MAX_PHOTOS
from ..models import Case, Category

CATEGORY_INVALID = "请选择有效的问题分类（所选分类不存在或已停用）"
REGION_INVALID = "所选网格/村不在您可以上报的范围内"
HOUSEHOLD_INVALID = "所选户不在您的网格内，请按户号重新选择"


class CategorySelect(forms.Select):
    """The 小类 select: each option names its 大类 in ``data-parent`` for follow-select.js."""

    class Media:
        js = ["yiwang/follow-select.js"]

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        category = getattr(value, "instance", None)
        if category is not None and category.parent_id:
            option["attrs"]["data-parent"] = str(category.parent_id)
        return option


class HouseholdSelect(forms.Select):
    """Households of the chosen grid: each option names its grid's code in ``data-parent``."""

    class Media:
        js = ["yiwang/follow-select.js"]

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        household = getattr(value, "instance", None)
        if household is not None and household.grid_id:
            option["attrs"]["data-parent"] = household.grid.code
        return option


class PhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotoField(forms.FileField):
    """Up to ``MAX_PHOTOS`` photos from one ``<input type=file multiple>``; the list goes to the action,
    which sniffs and re-encodes each (a renamed executable is refused there)."""

    def __init__(self, **kwargs):
        attrs = {"accept": "image/*", "capture": "environment", "data-max-files": str(MAX_PHOTOS)}
        kwargs.setdefault("widget", PhotoInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"照片最多 {MAX_PHOTOS} 张，您选了 {len(files)} 张，请重新选择")
        return [super(PhotoField, self).clean(f, initial) for f in files]


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number}　{obj.address}" if obj.address else obj.number


class SubCategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def _decimal_or_none(value, label):
    """A coordinate as typed or filled by the locator script; its range is checked by the action."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise forms.ValidationError(f"{label}应为数字，如 39.412345；不知道可以留空，只填详细地点") from None
    if not number.is_finite():
        raise forms.ValidationError(f"{label}应为数字，如 39.412345")
    return number


def report_regions(user, *, grids_first):
    """The grids and villages where ``user`` may report (holds ``cases.report``), as one queryset."""
    paths = user.scope_paths("cases.report") if not user.is_superuser else [""]
    if not paths:
        return Region.objects.none()
    regions = Region.objects.filter(reduce(or_, (Q(path__startswith=p) for p in paths)),
                                    kind__in=[Region.Kind.GRID, Region.Kind.VILLAGE, Region.Kind.COMMUNITY])
    if grids_first:
        regions = regions.annotate(grid_rank=SqlCase(When(kind=Region.Kind.GRID, then=Value(0)), default=Value(1),
                                                   output_field=IntegerField())).order_by("grid_rank", "path")
    return regions


class ReportForm(forms.Form):
    category_group = forms.ModelChoiceField(
        label="问题大类", queryset=Category.objects.none(), required=False, empty_label="请选择",
        error_messages={"invalid_choice": CATEGORY_INVALID})
    category = SubCategoryField(
        label="问题小类", queryset=Category.objects.none(), required=False, empty_label="（不细分）",
        widget=CategorySelect(attrs={"data-follows": "category_group"}),
        error_messages={"invalid_choice": CATEGORY_INVALID})
    region = forms.ModelChoiceField(
        label="所在网格/村", queryset=Region.objects.none(), to_field_name="code", empty_label="请选择",
        error_messages={"invalid_choice": REGION_INVALID, "required": "请选择问题所在的网格或村"})
    household = HouseholdChoiceField(
        label="涉及户（户号）", queryset=Household.objects.none(), to_field_name="number", required=False,
        empty_label="不涉及具体户", widget=HouseholdSelect(attrs={"data-follows": "region"}),
        error_messages={"invalid_choice": HOUSEHOLD_INVALID})
    description = forms.CharField(
        label="问题描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写问题描述：发生了什么、在哪里、影响到谁",
                        "max_length": "问题描述最多 2000 字"})
    address = forms.CharField(label="详细地点", max_length=200, required=False,
                              error_messages={"max_length": "地点最多 200 字"},
                              widget=forms.TextInput(attrs={"placeholder": "如：3组东头水井旁"}))
    latitude = forms.CharField(label="纬度", max_length=20, required=False,
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    longitude = forms.CharField(label="经度", max_length=20, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    photos = PhotoField(label=f"照片（最多 {MAX_PHOTOS} 张）")
    confirm_new = forms.BooleanField(label="仍然上报（不是同一件事）", required=False)
    submission = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)

    def __init__(self, *args, user, grid_worker, resident, **kwargs):
        super().__init__(*args, **kwargs)
        active = Category.objects.filter(active=True)
        self.fields["category_group"].queryset = active.filter(parent__isnull=True).order_by("order", "code")
        self.fields["category"].queryset = (active.filter(parent__isnull=False, parent__active=True)
                                            .select_related("parent").order_by("parent__order", "order", "code"))
        regions = report_regions(user, grids_first=not resident)
        self.fields["region"].queryset = regions
        self.fields["region"].label_from_instance = lambda r: r.name
        self.grid_worker = grid_worker
        if grid_worker:
            grid_ids = regions.filter(kind=Region.Kind.GRID).values("pk")
            self.fields["household"].queryset = (Household.objects.visible_to(user, "view")
                                                 .filter(grid__in=grid_ids, closed_on__isnull=True)
                                                 .select_related("grid").order_by("number"))
        else:
            del self.fields["household"]
        if not self.is_bound:
            only = list(regions[:2])
            if len(only) == 1:
                self.initial.setdefault("region", only[0].code)

    def clean_latitude(self):
        return _decimal_or_none(self.cleaned_data.get("latitude"), "纬度")

    def clean_longitude(self):
        return _decimal_or_none(self.cleaned_data.get("longitude"), "经度")

    def clean(self):
        data = super().clean()
        group, sub = data.get("category_group"), data.get("category")
        if "category_group" in self.errors or "category" in self.errors:
            return data
        if sub is not None:
            if group is not None and sub.parent_id != group.pk:
                self.add_error("category", f"小类“{sub.name}”不属于大类“{group.name}”，请重新选择")
                return data
            data["chosen_category"] = sub
        elif group is not None:
            data["chosen_category"] = group
        else:
            self.add_error("category_group", "请选择问题分类")
            return data
        household, region = data.get("household"), data.get("region")
        if household is not None and region is not None:
            if region.kind == Region.Kind.GRID and household.grid_id != region.pk:
                self.add_error("household", f"户 {household.number} 不在“{region.name}”，请重新选择")
            elif region.kind != Region.Kind.GRID and not household.region_path.startswith(region.path):
                self.add_error("household", f"户 {household.number} 不在“{region.name}”，请重新选择")
        return data


class _CaseActionForm(forms.Form):
    """A transition on the case page: carries the ``version`` the user saw, so a stale page gets the
    action's conflict message instead of overwriting someone else's step."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                 error_messages={"required": "页面已过期，请刷新后再操作",
                                                 "invalid": "页面已过期，请刷新后再操作"})


class AcceptForm(_CaseActionForm):
    note = forms.CharField(label="受理说明", max_length=500, required=False)


class ResolveForm(_CaseActionForm):
    result = forms.CharField(label="办理结果", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请填写办理结果：做了什么、问题是否解决"})
    photos = PhotoField(label=f"办结照片（最多 {MAX_PHOTOS} 张）")


class EscalateForm(_CaseActionForm):
    reason = forms.CharField(label="上报理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "请填写上报理由：为什么本级办不了"})


EXTENSION_CHOICES = [(24, "1 天"), (48, "2 天"), (72, "3 天"), (168, "7 天"), (360, "15 天")]


class ExtensionForm(_CaseActionForm):
    hours = forms.TypedChoiceField(label="延长", choices=EXTENSION_CHOICES, coerce=int, initial=72,
                                   error_messages={"invalid_choice": "请选择延长的天数"})
    reason = forms.CharField(label="延期理由", max_length=200,
                             error_messages={"required": "请填写延期理由"})


class RateForm(_CaseActionForm):
    rating = forms.ChoiceField(label="您对办理结果", choices=Case.Rating.choices, widget=forms.RadioSelect,
                               error_messages={"required": "请选择：满意、基本满意或不满意",
                                               "invalid_choice": "请选择：满意、基本满意或不满意"})
    comment = forms.CharField(label="意见（可不填）", max_length=200, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


CASE_ACTION_FORMS = {
    "accept": AcceptForm, "resolve": ResolveForm, "escalate": EscalateForm, "extend": ExtensionForm,
    "rate": RateForm,
}


class TrackForm(forms.Form):
    number = forms.CharField(label="诉求编号", max_length=20, strip=True,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                           "placeholder": "如 20230000123"}),
                             error_messages={"required": "请输入诉求编号"})

