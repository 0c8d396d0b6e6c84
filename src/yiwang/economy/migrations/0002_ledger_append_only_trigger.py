"""On PostgreSQL the income ledger refuses DELETE, and any UPDATE that touches what an entry says
(village, project, month, category, amount, voucher, reversal link), at the database too: a correction is a
reversing entry, even for a raw SQL session of the application user. The review stamp (reviewed_by,
reviewed_at) may be set, and a deleted user's foreign keys may become NULL. TRUNCATE (test flushes) is not
affected. SQLite, the single-user embedded default, relies on the model and queryset guards."""
from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION yiwang_ledger_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION '收入台账只可追加 / the income ledger is append-only';
  END IF;
  IF NEW.village_id <> OLD.village_id OR NEW.region_path <> OLD.region_path
     OR NEW.project_id IS DISTINCT FROM OLD.project_id OR NEW.month <> OLD.month
     OR NEW.category <> OLD.category OR NEW.amount <> OLD.amount
     OR NEW.source_document <> OLD.source_document OR NEW.note <> OLD.note
     OR NEW.reverses_id IS DISTINCT FROM OLD.reverses_id THEN
    RAISE EXCEPTION '收入台账只可追加：更正请用冲销分录 / the income ledger is append-only';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER economy_incomeentry_append_only BEFORE UPDATE OR DELETE ON economy_incomeentry
  FOR EACH ROW EXECUTE FUNCTION yiwang_ledger_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS economy_incomeentry_append_only ON economy_incomeentry;
DROP FUNCTION IF EXISTS yiwang_ledger_append_only();
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [("economy", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
