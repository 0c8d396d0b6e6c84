"""Forms of the case page (one per transition), the console's bulk actions and the policy pages.

They collect input only: every rule (which state, who may, what is valid) lives in ``cases.actions``.
Each transition form carries the case's ``version`` in a hidden field, so the action can tell a user
who acted on a page that has since gone stale (someone else moved the case first).
"""
import copy

from django import forms
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.utils.html import escape
from django.utils.safestring import mark_safe

from yiwang.accounts.models import User
from yiwang.accounts.roles import Role
from yiwang.areas.models import Region

from ..models import Case, Category, Department

# roles that grant cases.change, and the town-staff modules that include cases (see accounts.roles)
HANDLER_ROLES = (Role.VILLAGE_CADRE, Role.GRID_WORKER)
CASE_STAFF_MODULES = ("", "all", "cases")


def ancestor_paths(path: str) -> list[str]:
    """"/15/1506/150627/" → ["/15/", "/15/1506/", "/15/1506/150627/"]: the region and everything above it."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)]


def _handlers(where):
    """Active users with an assignment granting ``cases.change`` whose region matches ``where`` (one query;
    both conditions in one filter() so they hold for the same assignment)."""
    grants = Q(assignments__role__in=HANDLER_ROLES) | Q(assignments__role=Role.TOWN_STAFF,
                                                        assignments__module__in=CASE_STAFF_MODULES)
    return User.objects.filter(grants & where, is_active=True).distinct().order_by("username")


def handlers_for(region_path: str):
    """Who may handle a case at ``region_path``: an assignment at that region or above it."""
    return _handlers(Q(assignments__region__path__in=ancestor_paths(region_path)))


def handlers_in(region_path: str):
    """Who may handle some case at or under ``region_path`` (the console's region): the bulk assign
    offers them all; the action still refuses one who may not handle a given case."""
    return _handlers(Q(assignments__region__path__in=ancestor_paths(region_path))
                     | Q(assignments__region__path__startswith=region_path))


def html_attrs(attrs) -> str:
    """Attributes in their order, as Django's attrs.html writes them (True: the name alone; False, None: left out)."""
    return "".join(f" {k}" if v is True else f' {k}="{escape(v)}"' for k, v in attrs.items()
                   if v is not False and v is not None)


class LeanSelect(forms.Select):
    """A single select rendered by string formatting instead of a template per option: the console's
    selects (regions of a town, its ~500 possible handlers) took ≈ 25 ms of each page through Django's
    widget templates. Same markup (attributes, the first selected option, option groups)."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        choices = self.choices
        if isinstance(choices, ModelChoiceIterator):
            choices = model_choices(choices)
        out, found = [f"<select{html_attrs({'name': name, **self.build_attrs(self.attrs, attrs)})}>"], False

        def option(value, label):
            nonlocal found
            value = "" if value is None else str(value)
            selected = not found and value in chosen
            found = found or selected
            return (f'<option value="{escape(value)}"{" selected" if selected else ""}>'
                    f"{escape(label)}</option>")

        for group, labels in choices:
            if isinstance(labels, (list, tuple)):
                out.append(f'<optgroup label="{escape(group)}">')
                out += [option(v, label) for v, label in labels]
                out.append("</optgroup>")
            else:
                out.append(option(group, labels))
        out.append("</select>")
        return mark_safe("\n".join(out))


def model_choices(iterator):
    """The choices of a ModelChoiceIterator as its own ``__iter__`` makes them (the empty label,
    django-filter's null label, then one per row), but read by one plain query: ``__iter__`` uses
    ``QuerySet.iterator()``, a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE: three round trips
    per select)."""
    field = iterator.field
    out = [("", field.empty_label)] if field.empty_label is not None else []
    if getattr(field, "null_label", None) is not None:
        out.append((field.null_value, field.null_label))
    return out + [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in iterator.queryset]


class LeanInputMixin:
    """A text or date input rendered by string formatting (the same markup as Django's template)."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        attrs = self.build_attrs(self.attrs, attrs)
        start = {"type": self.input_type, "name": name, **({"value": value} if value not in (None, "") else {})}
        return mark_safe(f"<input{html_attrs({**start, **attrs})}>")


class LeanTextInput(LeanInputMixin, forms.TextInput):
    pass


class LeanDateInput(LeanInputMixin, forms.DateInput):
    pass


LEAN = {forms.Select: LeanSelect, forms.TextInput: LeanTextInput, forms.DateInput: LeanDateInput}


def lean_selects(form):
    """Swap the single selects, text and date inputs of ``form`` for their lean twins (attributes, choices,
    formats kept): the console renders them on every page."""
    for field in form.fields.values():
        widget = field.widget
        lean_class = LEAN.get(type(widget))
        if lean_class is None:
            continue
        lean = copy.copy(widget)
        lean.__class__ = lean_class
        field.widget = lean


class HandlerChoice(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user}（{user.username}）"


class TransitionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.user = case, user
        if case is not None and not self.is_bound:
            self.initial.setdefault("version", case.version)


class NoteForm(TransitionForm):
    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RequiredNoteForm(TransitionForm):
    note = forms.CharField(label="说明", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(TransitionForm):
    reason = forms.CharField(label="不予受理理由", max_length=200)


class MergeForm(TransitionForm):
    into = forms.CharField(label="合并到（诉求编号）", max_length=20)
    note = forms.CharField(label="说明", max_length=500, required=False)


class AssignForm(TransitionForm):
    level = forms.ChoiceField(label="办理层级", choices=Case.Level.choices)
    handler = HandlerChoice(label="承办人", queryset=User.objects.none(), required=False, to_field_name="username",
                            empty_label="（不指定，进入该层级待领队列）")
    department = forms.ModelChoiceField(label="部门", queryset=Department.objects.filter(active=True),
                                        required=False, to_field_name="code", empty_label="（派发到部门时选择）")
    note = forms.CharField(label="说明", max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.case is not None:
            self.fields["handler"].queryset = handlers_for(self.case.region_path)


class EscalateForm(TransitionForm):
    reason = forms.CharField(label="上报理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class WhistleForm(TransitionForm):
    departments = forms.ModelMultipleChoiceField(label="吹哨部门", queryset=Department.objects.filter(active=True),
                                                 to_field_name="code", widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label="吹哨事由", max_length=500)


class WhistleReportForm(TransitionForm):
    whistle = forms.IntegerField(widget=forms.HiddenInput)
    report = forms.CharField(label="报到情况", max_length=500)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; checked (type sniffed, size) by the action, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleImageField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ResolveForm(TransitionForm):
    result = forms.CharField(label="办理结果", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleImageField(label="办结照片", required=False)


class RateForm(TransitionForm):
    rating = forms.ChoiceField(label="回访评价", choices=Case.Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label="评价意见", max_length=200, required=False)


class SuperviseForm(TransitionForm):
    level = forms.ChoiceField(label="督办级别", choices=[("yellow", "黄牌督办"), ("red", "红牌督办")])
    note = forms.CharField(label="督办意见", max_length=500)


class ExtensionRequestForm(TransitionForm):
    hours = forms.IntegerField(label="延期（小时）", min_value=1, max_value=2160)
    reason = forms.CharField(label="延期理由", max_length=200)


class ExtensionDecisionForm(TransitionForm):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(label="审批", choices=[("1", "批准"), ("0", "驳回")], coerce=lambda v: v == "1",
                                     widget=forms.RadioSelect)
    note = forms.CharField(label="审批意见", max_length=200, required=False)


class BulkForm(forms.Form):
    """The console's bulk actions on the selected rows."""

    OPERATIONS = [("accept", "受理"), ("assign", "分派"), ("supervise", "督办")]

    cases = forms.ModelMultipleChoiceField(queryset=Case.objects.none(), to_field_name="pk",
                                           error_messages={"required": "请先勾选要处理的诉求",
                                                           "invalid_choice": "所选诉求不存在或无权处理"})
    operation = forms.ChoiceField(label="批量操作", choices=OPERATIONS)
    level = forms.ChoiceField(label="办理层级", choices=[c for c in Case.Level.choices if c[0] != "department"],
                              required=False)
    handler = HandlerChoice(label="承办人", queryset=User.objects.none(), required=False, to_field_name="username",
                            empty_label="（不指定）")
    supervision = forms.ChoiceField(label="督办级别", choices=[("yellow", "黄牌督办"), ("red", "红牌督办")],
                                    required=False)
    note = forms.CharField(label="说明/督办意见", max_length=500, required=False)

    def __init__(self, *args, cases=None, handler_region_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        if cases is not None:
            self.fields["cases"].queryset = cases
        if handler_region_path:
            self.fields["handler"].queryset = handlers_in(handler_region_path)


class CategoryForm(forms.Form):
    code = forms.SlugField(label="代码", max_length=40)
    name = forms.CharField(label="名称", max_length=40)
    parent = forms.ModelChoiceField(label="上级分类", queryset=Category.objects.filter(parent__isnull=True),
                                    required=False, to_field_name="code", empty_label="（一级分类）")
    accept_hours = forms.IntegerField(label="受理时限（小时）", min_value=1, max_value=8760)
    resolve_hours = forms.IntegerField(label="办结时限（小时）", min_value=1, max_value=8760)
    yellow_pct = forms.IntegerField(label="黄色预警（时限已用 %）", min_value=1, max_value=100)
    red_pct = forms.IntegerField(label="红色预警（时限已用 %）", min_value=1, max_value=100)
    is_emergency = forms.BooleanField(label="紧急类", required=False)
    active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing is not None:
            self.fields["code"].disabled = True
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(pk=editing.pk)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="名称（接入的应用）", max_length=60)
    region = forms.ModelChoiceField(label="区域（该密钥提交的诉求只能落在此区域内）", queryset=Region.objects.none(),
                                    to_field_name="code")

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions
