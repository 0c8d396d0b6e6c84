"""Forms of the grid app. They collect input only; what matters is validated by ``grid.actions``.
Choices are built from the user's scope (``visible_to``): another village's grid, worker or person is
not offered and reads as "does not exist" when forged."""
import datetime
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Q

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.idnumber import normalise
from yiwang.people.models import Person

from .models import GridWorker, Visit

DATE = {"type": "date"}


class WorkerForm(forms.Form):
    id_number = forms.CharField(label="身份证号码", max_length=30, help_text="须为已登记在户籍中的人员")
    grid = forms.ModelChoiceField(label="主网格", queryset=Region.objects.none(), to_field_name="code")
    grids = forms.ModelMultipleChoiceField(label="同时服务的网格", queryset=Region.objects.none(), to_field_name="code",
                                           required=False, widget=forms.CheckboxSelectMultiple)
    kind = forms.ChoiceField(label="类型", choices=GridWorker.Kind.choices)
    start_date = forms.DateField(label="任职日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), initial=datetime.date.today)
    username = forms.CharField(label="登录账号", max_length=150, required=False, help_text="可空；该网格员用于登录的账号")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        grids = Region.objects.visible_to(user).filter(kind="grid")
        self.fields["grid"].queryset = grids
        self.fields["grids"].queryset = grids

    def clean_id_number(self):
        number = normalise(self.cleaned_data["id_number"])
        person = Person.objects.visible_to(self.user).filter(id_hash=crypto.lookup_hash(number)).first()
        if person is None:
            raise forms.ValidationError("未找到该身份证号码的人员（或不在您的管辖范围内）")
        return person

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        if not name:
            return None
        users = User.objects.filter(username=name)
        if not self.user.is_superuser:  # an account holding a role inside the user's grid scope
            paths = self.user.scope_paths("grid.change") or ["\0"]
            users = users.filter(reduce(or_, (Q(assignments__region__path__startswith=p) for p in paths)))
        user = users.first()
        if user is None:
            raise forms.ValidationError(f"账号“{name}”不存在或不在您的管辖范围内")
        return user


class WorkerEditForm(forms.Form):
    grids = forms.ModelMultipleChoiceField(label="服务网格", queryset=Region.objects.none(), to_field_name="code",
                                           required=False, widget=forms.CheckboxSelectMultiple)
    kind = forms.ChoiceField(label="类型", choices=GridWorker.Kind.choices)
    end_date = forms.DateField(label="离任日期", required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
                               help_text="填写后该网格员离任，其当前包户同日解除")

    def __init__(self, *args, worker, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grids"].queryset = Region.objects.filter(parent_id=worker.grid.parent_id, kind="grid")


class PairForm(forms.Form):
    worker = forms.ModelChoiceField(label="网格员", queryset=GridWorker.objects.none())
    start_date = forms.DateField(label="结对日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), initial=datetime.date.today)

    def __init__(self, *args, user, household, **kwargs):
        super().__init__(*args, **kwargs)
        today = datetime.date.today()
        self.fields["worker"].queryset = (GridWorker.objects.visible_to(user).active_on(today)
                                          .filter(grids__parent_id=household.village_id).distinct()
                                          .select_related("person", "grid").order_by("region_path", "pk"))
        self.fields["worker"].label_from_instance = lambda w: f"{w.person.name}（{w.grid.name}）"


class UnpairForm(forms.Form):
    end_date = forms.DateField(label="解除日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), initial=datetime.date.today)


class VisitForm(forms.Form):
    date = forms.DateField(label="走访日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), initial=datetime.date.today)
    kind = forms.ChoiceField(label="走访类型", choices=Visit.Kind.choices)
    findings = forms.CharField(label="发现情况", required=False, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label="照片", required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    worker = forms.ModelChoiceField(label="网格员", queryset=GridWorker.objects.none(), required=False)

    def __init__(self, *args, user, household, own_worker, current_worker, **kwargs):
        super().__init__(*args, **kwargs)
        if own_worker is not None:  # a grid worker records their own visits
            del self.fields["worker"]
            return
        today = datetime.date.today()
        self.fields["worker"].required = True
        self.fields["worker"].queryset = (GridWorker.objects.visible_to(user).active_on(today)
                                          .filter(grids__parent_id=household.village_id).distinct()
                                          .select_related("person", "grid"))
        self.fields["worker"].label_from_instance = lambda w: f"{w.person.name}（{w.grid.name}）"
        if current_worker is not None:
            self.fields["worker"].initial = current_worker.pk


class VisitCaseForm(forms.Form):
    category = forms.ModelChoiceField(label="诉求分类", queryset=None)
    description = forms.CharField(label="问题描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        from yiwang.cases.models import Category

        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True).select_related("parent")
