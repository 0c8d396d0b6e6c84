"""Inserting many rows of one model fast, for the Excel importer's write pass.

``QuerySet.bulk_create`` spends ~30 µs of Python per row on model instances and per-field preparation
(``pre_save``, ``get_db_prep_save``, SQL assembly) — more than the database takes to store the row.
``insert_rows`` takes plain tuples in a declared field order and adapts only the values whose type
needs it for the connection (dates, datetimes, JSON, IP addresses); text, numbers, booleans and ids
go as they are. Fields left out get their model default, ``auto_now``/``auto_now_add`` fields the
current time, as ``bulk_create`` would. It sends no signals (neither does ``bulk_create``) and runs in
the caller's transaction; the SQL is what ``bulk_create`` sends: on PostgreSQL ``INSERT … SELECT *
FROM UNNEST(<one array per column>)``, on SQLite multi-row ``INSERT … VALUES`` — each with ``RETURNING``
the primary keys when asked (SQLite ≥ 3.35 has it) — or, when no keys are needed, ``executemany`` on
SQLite and ``COPY … FROM STDIN`` on PostgreSQL (psycopg 3's ``cursor.copy``; from ``PG_COPY_ROWS`` rows). Callers pass values already valid for the field (the importer's checks ran first).
"""
from django.db import connections, router
from django.utils import timezone

PLAIN = {"AutoField", "BigAutoField", "SmallAutoField", "CharField", "TextField", "SlugField", "EmailField",
         "BooleanField", "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
         "PositiveSmallIntegerField", "PositiveBigIntegerField", "ForeignKey", "OneToOneField"}


PG_ROWS = 5000
PG_COPY_ROWS = 200  # from this many rows without RETURNING, COPY instead of INSERT on PostgreSQL


def _converter(field, connection):
    kind = field.get_internal_type()
    if kind in PLAIN:
        return None
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "JSONField":  # what JSONField.get_db_prep_save comes to for a dict or list
        adapt, encoder = connection.ops.adapt_json_value, field.encoder
        return lambda value: adapt(value, encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _max_rows(connection, width):
    if connection.vendor == "sqlite":
        import sqlite3

        try:
            limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, TypeError):
            limit = 999
    else:
        limit = 65535
    return max(1, min(2000, limit // width))


def insert_rows(model, fields, rows, *, returning=False, using=None):
    """INSERT ``rows`` (tuples in the order of ``fields``, model field names; a foreign key takes the
    related primary key) into ``model``'s table. Returns the new primary keys, in row order, when
    ``returning``; else None."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return [] if returning else None
    using = using or router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    names = set(fields)
    now = timezone.now()
    extra, extra_values = [], []
    for f in meta.concrete_fields:
        if f.primary_key or f.name in names:
            continue
        extra.append(f)
        extra_values.append(now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                            else f.get_default())
    columns = given + extra
    converters = [(i, c) for i, c in enumerate(_converter(f, connection) for f in given) if c is not None]
    tail = [v if v is None or (c := _converter(f, connection)) is None else c(v) for f, v in zip(extra, extra_values)]
    prepared = []
    append = prepared.append
    for row in rows:
        values = list(row)
        for i, convert in converters:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        if tail:
            values.extend(tail)
        append(values)
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not returning and len(prepared) >= PG_COPY_ROWS:
            # rows whose ids nobody needs back (audit entries, tag links): COPY, the cheapest way in for
            # the server and for us (no arrays to build, no INSERT … SELECT to plan and run)
            copy_sql = f"COPY {qn(meta.db_table)} ({', '.join(qn(f.column) for f in columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                write = copy.write_row
                for values in prepared:
                    write(values)
            return None
        if connection.vendor == "postgresql":
            # one array per column through UNNEST, as Django 5.2's bulk_create does on PostgreSQL: the
            # statement stays a few hundred characters whatever the row count (psycopg's client-side
            # binding would otherwise split a 30,000-placeholder statement in Python, batch after batch)
            casts = ", ".join(f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in columns)
            sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in columns)}) "
                   f"SELECT * FROM UNNEST({casts})" + (f" RETURNING {qn(meta.pk.column)}" if returning else ""))
            ids = []
            for start in range(0, len(prepared), PG_ROWS):
                cursor.execute(sql, [list(col) for col in zip(*prepared[start:start + PG_ROWS])])
                if returning:
                    ids.extend(r[0] for r in cursor.fetchall())
            return ids if returning else None
        if not returning:
            if connection.vendor == "sqlite":
                cursor.executemany(head + one, prepared)
                return None
        ids = []
        step = _max_rows(connection, len(columns))
        tail_sql = f" RETURNING {qn(meta.pk.column)}" if returning else ""
        for start in range(0, len(prepared), step):
            chunk = prepared[start:start + step]
            params = [v for values in chunk for v in values]
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail_sql, params)
            if returning:
                ids.extend(r[0] for r in cursor.fetchall())
    return ids if returning else None
