"""django-import-export Resources for the households sheet, written the way a Django team would write
them — the comparison for the benchmark only (the product does not use this library).

Two resources over the same 14 columns: ``HouseholdResource`` (户号 as the import id, village and grid
by code through ``ForeignKeyWidget``) imported from the rows deduplicated by 户号, then
``PersonResource`` (the keyed hash of the ID number as the import id, the household by 户号) over
every row. What the product stores beside the plain fields — the encrypted ID number and phone with
their lookup hashes, gender and birth date from the ID number, the pinyin initials, the household's
region path and head — is filled in the resource hooks, as a team would have to. What it does not
do, and the product does: one audit entry per created or changed record with its field diffs, the
cross-row checks (one head per household, household columns agreeing on every row, an ID number
registered in another household, scope) — so the comparison favours the library.
"""
import datetime

from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader

from yiwang.areas.models import Region
from yiwang.core import crypto
from yiwang.core.idnumber import parse_id_number
from yiwang.core.text import clean_phone
from yiwang.people.actions import initials
from yiwang.people.models import Household, Person, Tag

DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]


class LabelChoiceWidget(widgets.Widget):
    """A choice by its Chinese label (政治面貌 群众 → masses)."""

    def __init__(self, choices, default=None):
        super().__init__()
        self.by_label = {str(label): value for value, label in choices}
        self.default = default

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip()
        if not value:
            return self.default
        if value in self.by_label:
            return self.by_label[value]
        raise ValueError(f"“{value}”不是可选值")

    def render(self, value, obj=None, **kwargs):
        return value


class CodeWidget(widgets.ForeignKeyWidget):
    """A region by its code; blank is none."""

    def clean(self, value, row=None, **kwargs):
        return super().clean(str(value).strip() if value else None, row, **kwargs)


class MultiDateWidget(widgets.DateWidget):
    def __init__(self):
        super().__init__(format=DATE_FORMATS[0])
        self.formats = DATE_FORMATS

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        return super().clean(value, row, **kwargs)


class HouseholdResource(resources.ModelResource):
    number = fields.Field(attribute="number", column_name="户号")
    village = fields.Field(attribute="village", column_name="嘎查村代码", widget=CodeWidget(Region, "code"))
    grid = fields.Field(attribute="grid", column_name="网格代码", widget=CodeWidget(Region, "code"))
    address = fields.Field(attribute="address", column_name="地址")
    registered_on = fields.Field(attribute="registered_on", column_name="户登记日期", widget=MultiDateWidget())
    tags = fields.Field(attribute="tags", column_name="户特殊群体",
                        widget=widgets.ManyToManyWidget(Tag, separator="、", field="name"))

    class Meta:
        model = Household
        import_id_fields = ("number",)
        fields = ("number", "village", "grid", "address", "registered_on", "tags")
        skip_unchanged = True

    def before_save_instance(self, instance, row, **kwargs):
        instance.region_path = (instance.grid or instance.village).path
        instance.address = instance.address or ""


class PersonResource(resources.ModelResource):
    id_hash = fields.Field(attribute="id_hash", column_name="id_hash")
    household = fields.Field(attribute="household", column_name="户号", widget=widgets.ForeignKeyWidget(Household, "number"))
    name = fields.Field(attribute="name", column_name="姓名")
    relation = fields.Field(attribute="relation", column_name="与户主关系",
                            widget=LabelChoiceWidget(Person.Relation.choices))
    political_status = fields.Field(attribute="political_status", column_name="政治面貌",
                                    widget=LabelChoiceWidget(Person.Political.choices, Person.Political.MASSES))
    status = fields.Field(attribute="status", column_name="人员状态",
                          widget=LabelChoiceWidget(Person.Status.choices, Person.Status.LIVING))
    registered_on = fields.Field(attribute="registered_on", column_name="登记日期", widget=MultiDateWidget())
    tags = fields.Field(attribute="tags", column_name="个人特殊群体",
                        widget=widgets.ManyToManyWidget(Tag, separator="、", field="name"))

    class Meta:
        model = Person
        import_id_fields = ("id_hash",)
        fields = ("id_hash", "household", "name", "relation", "political_status", "status", "registered_on", "tags")
        skip_unchanged = True

    def before_import(self, dataset, **kwargs):
        # the import id is the keyed hash of the ID number: a column computed before the rows are read
        dataset.append_col([crypto.lookup_hash(parse_id_number(n).number) for n in dataset["身份证号码"]],
                           header="id_hash")

    def before_save_instance(self, instance, row, **kwargs):
        parsed = parse_id_number(row["身份证号码"])
        phone = clean_phone(str(row.get("联系电话") or ""))
        instance.id_cipher = crypto.encrypt(parsed.number)
        instance.id_prefix, instance.id_suffix = parsed.number[:6], parsed.number[-4:]
        instance.gender, instance.birth_date = parsed.gender, parsed.birth_date
        instance.name_initials = initials(instance.name)
        instance.phone_hash, instance.phone_cipher = crypto.lookup_hash(phone), crypto.encrypt(phone)
        instance.phone_suffix = phone[-4:]

    def after_save_instance(self, instance, row, **kwargs):
        if instance.relation == Person.Relation.HEAD and not kwargs.get("dry_run"):
            Household.objects.filter(pk=instance.household_id).update(head=instance)


def household_dataset(dataset):
    """The rows deduplicated by 户号 (the household columns only), as a team would import them first."""
    import tablib

    cols = ["户号", "嘎查村代码", "网格代码", "地址", "户登记日期", "户特殊群体"]
    idx = [dataset.headers.index(c) for c in cols]
    out, seen = tablib.Dataset(headers=cols), set()
    for row in dataset:
        if row[idx[0]] in seen:
            continue
        seen.add(row[idx[0]])
        out.append([row[i] for i in idx])
    return out


# The library's advice for large imports: bulk mode (bulk_create/bulk_update per batch), no row diffs,
# the existing instances loaded in one query (CachedInstanceLoader).
class HouseholdBulkResource(HouseholdResource):
    class Meta(HouseholdResource.Meta):
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        instance_loader_class = CachedInstanceLoader


class PersonBulkResource(PersonResource):
    class Meta(PersonResource.Meta):
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        instance_loader_class = CachedInstanceLoader

    def after_import(self, dataset, result, **kwargs):
        # bulk mode saves after the row hooks: set the heads once the persons exist
        if not kwargs.get("dry_run"):
            heads = Person.objects.filter(relation=Person.Relation.HEAD, household__head__isnull=True)
            for pk, household_id in heads.values_list("pk", "household_id"):
                Household.objects.filter(pk=household_id).update(head_id=pk)

    def after_save_instance(self, instance, row, **kwargs):
        pass
