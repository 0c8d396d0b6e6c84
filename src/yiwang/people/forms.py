"""Forms of the people app. They collect input only; validation that matters lives in the actions."""
from django import forms

from yiwang.areas.models import Region
from yiwang.areas.widgets import ChildRegionSelect
from yiwang.core.errors import ActionError

from .models import Person, Tag
from .validators import MAX_LENGTH as NUMBER_MAX_LENGTH
from .validators import clean_household_number


class HouseholdForm(forms.Form):
    number = forms.CharField(label="户号", max_length=NUMBER_MAX_LENGTH,
                             help_text="只能包含字母、数字和短横线")
    village = forms.ModelChoiceField(label="嘎查村/社区", queryset=Region.objects.none(), to_field_name="code")
    grid = forms.ModelChoiceField(label="网格", queryset=Region.objects.none(), to_field_name="code", required=False,
                                  widget=ChildRegionSelect(follows="village"))  # only the chosen village's grids
    address = forms.CharField(label="地址", max_length=200, required=False)
    registered_on = forms.DateField(label="登记日期", widget=forms.DateInput(attrs={"type": "date"}))
    tags = forms.ModelMultipleChoiceField(label="特殊群体", queryset=Tag.objects.filter(applies_to="household"),
                                          required=False, widget=forms.CheckboxSelectMultiple, to_field_name="code")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.visible_to(user, "view")
        self.fields["village"].queryset = regions.filter(kind__in=["village", "community"])
        self.fields["grid"].queryset = regions.filter(kind="grid")
        for f in self.fields.values():
            if not isinstance(f.widget, forms.CheckboxSelectMultiple):
                f.widget.attrs.setdefault("class", "form-control")

    def clean_number(self):
        # the one 户号 rule (people.validators), the same the household sheet's 户号 column applies
        try:
            return clean_household_number(self.cleaned_data["number"])
        except ActionError as e:
            raise forms.ValidationError(e.text) from None


class HouseholdEditForm(HouseholdForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("number", "village", "grid"):
            del self.fields[name]


class MoveForm(forms.Form):
    grid = forms.ModelChoiceField(label="迁入网格", queryset=Region.objects.none(), to_field_name="code")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Region.objects.visible_to(user, "view").filter(kind="grid")
        self.fields["grid"].widget.attrs["class"] = "form-select"


class PersonForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="身份证号码", max_length=30)
    phone = forms.CharField(label="电话", max_length=30, required=False)
    political_status = forms.ChoiceField(label="政治面貌", choices=Person.Political.choices)
    relation = forms.ChoiceField(label="与户主关系", choices=Person.Relation.choices)
    status = forms.ChoiceField(label="状态", choices=Person.Status.choices)
    registered_on = forms.DateField(label="登记日期", widget=forms.DateInput(attrs={"type": "date"}))
    tags = forms.ModelMultipleChoiceField(label="特殊群体", queryset=Tag.objects.filter(applies_to="person"),
                                          required=False, widget=forms.CheckboxSelectMultiple, to_field_name="code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if not isinstance(f.widget, forms.CheckboxSelectMultiple):
                f.widget.attrs.setdefault("class", "form-control")


class PersonEditForm(PersonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["id_number"], self.fields["registered_on"]
        self.fields["phone"].help_text = "留空表示不修改"
