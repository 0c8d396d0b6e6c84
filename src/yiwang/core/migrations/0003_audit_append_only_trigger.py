"""On PostgreSQL the audit log refuses UPDATE and DELETE at the database too (append-only even for a
raw SQL session of the application user). TRUNCATE (test flushes, a deliberate purge by the DBA after
the retention period) is not affected. SQLite, the single-user embedded default, relies on the model
and queryset guards: its test flush is a DELETE, which a trigger would block."""
from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION yiwang_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '审计日志只可追加 / audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
  FOR EACH ROW EXECUTE FUNCTION yiwang_audit_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS yiwang_audit_append_only();
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_actor_do_nothing")]
    operations = [migrations.RunPython(up, down)]
