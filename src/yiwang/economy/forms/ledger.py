"""Forms of the ledger pages: an income entry, its reversal, correction and review, and a tier designation.

They collect input only: amounts and months stay text here so that ``economy.actions`` validates them
and answers in Chinese naming the field (three decimals, a negative amount, a word instead of a number).
Choices come from the user's scope: a village (or project) the user may not change is not offered, and
naming it in a forged POST reads as an invalid choice.
"""
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q

from yiwang.areas.models import Region

from ..models import IncomeCategory, Project, Tier

MONTH = {"type": "month", "placeholder": "2023-05"}


def villages_where(user, perm, region=None):
    """Villages (嘎查/村) under ``region`` where ``user`` holds ``perm`` (all of them for a superuser)."""
    qs = Region.objects.filter(kind=Region.Kind.VILLAGE)
    if region is not None:
        qs = qs.filter(path__startswith=region.path)
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs.order_by("code")
    paths = user.scope_paths(perm)
    if not paths:
        return qs.none()
    return qs.filter(reduce(or_, (Q(path__startswith=p) for p in paths))).order_by("code")


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.short_name


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.village.short_name} · {obj.name}（{obj.code}）"


class EntryForm(forms.Form):
    village = VillageChoiceField(label="嘎查村", queryset=Region.objects.none(), to_field_name="code")
    month = forms.CharField(label="月份", max_length=20, widget=forms.TextInput(attrs=MONTH),
                            help_text="收入所属月份，如 2023-05")
    category = forms.ChoiceField(label="收入类别", choices=IncomeCategory.choices)
    amount = forms.CharField(label="金额（元）", max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12345.67"}),
                             help_text="单位：元，最多两位小数；更正已录入的金额请用冲销")
    project = ProjectChoiceField(label="项目", queryset=Project.objects.none(), required=False,
                                 empty_label="（不属于具体项目）")
    source_document = forms.CharField(label="凭证", max_length=200, required=False, help_text="凭证号，同一凭证只能录入一次")
    note = forms.CharField(label="摘要", max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        villages = villages_where(user, "economy.change")
        self.fields["village"].queryset = villages
        self.fields["project"].queryset = (Project.objects.visible_to(user, "change")
                                           .filter(village__in=villages).select_related("village")
                                           .order_by("region_path", "code"))

    def clean(self):
        data = super().clean()
        village, project = data.get("village"), data.get("project")
        if village is not None and project is not None and project.village_id != village.pk:
            self.add_error("project", f"项目“{project.name}”不属于{village.short_name}")
        return data


class ReverseForm(forms.Form):
    """冲销: the reason is required (it is written into the reversing entry and the audit log)."""

    reason = forms.CharField(label="冲销原因", max_length=200, widget=forms.TextInput(attrs={"placeholder": "如：凭证重复录入"}))


class CorrectForm(forms.Form):
    """更正 = 冲销原分录 + 录入更正后的分录 (new amount and/or category)."""

    amount = forms.CharField(label="新金额（元）", max_length=30, required=False,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}), help_text="不改金额可留空")
    category = forms.ChoiceField(label="新收入类别", required=False,
                                 choices=[("", "（不改类别）"), *IncomeCategory.choices])
    reason = forms.CharField(label="更正原因", max_length=200)

    def clean(self):
        data = super().clean()
        if not (data.get("amount") or "").strip() and not data.get("category"):
            raise forms.ValidationError("请填写新金额或选择新收入类别")
        return data


class ReviewForm(forms.Form):
    """审核 has no input: who and when are recorded by the action."""


class DesignateForm(forms.Form):
    village = VillageChoiceField(label="嘎查村", queryset=Region.objects.none(), to_field_name="code")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    tier = forms.ChoiceField(label="认定等级", required=False, choices=[("", "（取消人工认定）"), *Tier.choices])
    reason = forms.CharField(label="认定依据", max_length=200, required=False, help_text="人工认定时必填")

    def __init__(self, *args, user, region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_where(user, "economy.approve", region)
