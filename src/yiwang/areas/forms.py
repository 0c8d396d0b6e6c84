"""Forms of the areas app: create a grid under a village, edit a grid or a boundary."""
import json

from django import forms


class GridForm(forms.Form):
    code = forms.CharField(label="网格代码", max_length=16, help_text="村代码后加 1–3 位数字")
    name = forms.CharField(label="网格名称", max_length=100)


class RegionEditForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    note = forms.CharField(label="备注", max_length=200, required=False)
    boundary = forms.CharField(label="边界 GeoJSON", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_boundary(self):
        text = self.cleaned_data["boundary"].strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise forms.ValidationError("边界不是有效的 GeoJSON（JSON 格式错误）") from None
