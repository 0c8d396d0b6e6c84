"""Insert a new row and the rows that point at it (its timeline event, its audit entry) as one write.

On PostgreSQL that is one statement, so one round trip and no BEGIN/COMMIT of its own:

    WITH p AS (INSERT INTO parent (…) VALUES (…) RETURNING id),
         d0 AS (INSERT INTO child (…, parent_id, …) VALUES (…, (SELECT id FROM p), …) RETURNING id)
    SELECT (SELECT id FROM p), (SELECT id FROM d0)

A single statement is atomic by itself; inside a transaction it runs in a savepoint, so a failure (a
unique number drawn twice) leaves the caller's transaction usable for a retry. Foreign keys are
checked at the end of the statement, when the parent exists. Elsewhere (SQLite) the rows are saved
one after the other in a transaction: the same rows, the same values.

Values are prepared as ``Model.save`` prepares them (``pre_save`` for ``auto_now_add``,
``get_db_prep_save``), and no signals are sent for these models' saves — callers use it only for
models nothing listens to (checked in the tests). Used by the Open311 intake, where the extra round
trips were a third of a POST (docs/BENCHMARKS.md).
"""
import functools

from django.db import connection, transaction


class Ref:
    """A dependent's field that takes the parent's new id: ``Ref("case_id")``, or as text:
    ``Ref("object_id", text=True)``."""

    def __init__(self, attname, *, text=False):
        self.attname, self.text = attname, text

    def sql(self):
        return '(SELECT "id"::text FROM p)' if self.text else '(SELECT "id" FROM p)'

    def value(self, pk):
        return str(pk) if self.text else pk


def insert_together(parent, dependents):
    """Insert ``parent`` (unsaved) and ``dependents``: [(unsaved obj, [Ref, …])]. Sets every pk and
    every referring field on the instances."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            parent.save(force_insert=True)
            for obj, refs in dependents:
                for ref in refs:
                    setattr(obj, ref.attname, ref.value(parent.pk))
                obj.save(force_insert=True)
        return
    parts, params = [], []
    sql, values = _insert_sql(parent, {})
    parts.append(f"p AS ({sql})")
    params += values
    for i, (obj, refs) in enumerate(dependents):
        sql, values = _insert_sql(obj, {r.attname: r for r in refs})
        parts.append(f"d{i} AS ({sql})")
        params += values
    selects = ", ".join(['(SELECT "id" FROM p)'] + [f'(SELECT "id" FROM d{i})' for i in range(len(dependents))])
    statement = f"WITH {', '.join(parts)} SELECT {selects}"
    if connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            ids = cursor.fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            ids = cursor.fetchone()
    parent.pk = ids[0]
    parent._state.adding, parent._state.db = False, connection.alias
    for (obj, refs), pk in zip(dependents, ids[1:]):
        for ref in refs:
            setattr(obj, ref.attname, ref.value(parent.pk))
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def _insert_sql(obj, refs):
    sql, fields = _template(type(obj), tuple(sorted((r.attname, r.text) for r in refs.values())), connection.alias)
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


@functools.cache
def _template(model, refs, alias):
    """The INSERT of ``model`` (its columns, placeholders and the parent-id references) and the fields
    whose values fill the placeholders, in order: the same for every row, built once per process."""
    ops, by_attname = connection.ops, {attname: Ref(attname, text=text) for attname, text in refs}
    columns, placeholders, fields = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(ops.quote_name(field.column))
        if field.attname in by_attname:
            placeholders.append(by_attname[field.attname].sql())
        else:
            placeholders.append("%s")
            fields.append(field)
    table, pk = ops.quote_name(model._meta.db_table), ops.quote_name(model._meta.pk.column)
    return (f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join(placeholders)}) RETURNING {pk} AS "id"',
            fields)
