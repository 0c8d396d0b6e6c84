"""Upload form: which sheet, for which region (within scope), all-or-nothing or partial, the file."""
from django import forms

from yiwang.areas.models import Region

from .reader import max_bytes
from .sheets import all_sheets


class UploadForm(forms.Form):
    sheet = forms.ChoiceField(label="表格")
    region = forms.ModelChoiceField(label="导入到区域", queryset=Region.objects.none(), to_field_name="code")
    file = forms.FileField(label="Excel 文件（.xlsx）")
    partial = forms.BooleanField(label="只导入正确的行（错误行可下载修改后再导入）", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [(s.key, s.title) for s in all_sheets() if user.has_any(s.change_permission)]
        self.fields["region"].queryset = Region.objects.visible_to(user).exclude(kind="grid").filter(
            kind__in=["town", "village", "community", "county"])
        self.fields["file"].widget.attrs["accept"] = ".xlsx"
        for name in ("sheet", "region"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs["class"] = "form-control"
        self.fields["partial"].widget.attrs["class"] = "form-check-input"

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > max_bytes():
            raise forms.ValidationError(f"文件过大：上限 {max_bytes() / 1048576:.0f} MB；请分批导入")
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 Excel .xlsx 文件")
        return f
