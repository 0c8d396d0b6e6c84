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
SQLite and a binary ``COPY … FROM STDIN`` on PostgreSQL (psycopg 3's ``cursor.copy`` with the column
types set; from ``PG_COPY_ROWS`` rows). ``Ids`` hands out primary keys ahead so that rows pointing at
each other need no ``RETURNING``. JSON is written by orjson. Callers pass values already valid for the
field (the importer's checks ran first).

``select_in`` looks many keys up with one parameter per chunk.
"""
import contextlib
import datetime
import json
import threading

import orjson
from django.db import connections, router
from django.utils import timezone

PLAIN = {"AutoField", "BigAutoField", "SmallAutoField", "CharField", "TextField", "SlugField", "EmailField",
         "BooleanField", "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
         "PositiveSmallIntegerField", "PositiveBigIntegerField", "ForeignKey", "OneToOneField"}


_iso_date = datetime.date.isoformat

PG_ROWS = 5000
PG_COPY_ROWS = 200  # from this many rows without RETURNING, COPY instead of INSERT on PostgreSQL


def _converter(field, connection):
    kind = field.get_internal_type()
    if kind in PLAIN:
        return None
    if kind == "DateField":
        if connection.vendor == "postgresql":
            return None  # psycopg sends a date as it is (what adapt_datefield_value does there)
        if connection.vendor == "sqlite":
            return _iso_date  # adapt_datefield_value's str(), without its checks
        return connection.ops.adapt_datefield_value
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "JSONField":  # what JSONField.get_db_prep_save comes to for a dict or list
        adapt, encoder = connection.ops.adapt_json_value, field.encoder
        if encoder is None:
            # JSON text by orjson (≈10× the standard library's encoder, the biggest Python cost of an
            # import's audit entries); both databases take text for a JSON column
            return lambda value: _json_dumps(value).decode()
        return lambda value: adapt(value, encoder)
    return lambda value: field.get_db_prep_save(value, connection)


# field kinds whose values go into a binary COPY as callers give them (psycopg dumps them by the type set)
_BINARY_AS_IS = PLAIN | {"DateField", "DateTimeField", "JSONField"}


def _binary_copy_types(columns, connection):
    """The PostgreSQL type name of each column for a binary COPY, or None if one is not simple."""
    adapters = connection.connection.adapters.types
    names = []
    for f in columns:
        kind = f.get_internal_type()
        if kind not in _BINARY_AS_IS and kind != "GenericIPAddressField":
            return None
        if kind == "JSONField" and f.encoder is not None:
            return None
        name = f.db_type(connection).split("(")[0].strip()
        if adapters.get(name) is None:
            return None
        names.append(name)
    return names


def _json_dumps(value):
    try:
        return orjson.dumps(value)
    except TypeError:  # what orjson will not write (a Decimal, a non-string key): the standard way
        return json.dumps(value).encode()


def _binary_copy(connection, table, columns, types, rows, tail):
    """Rows whose ids nobody needs back (audit entries, tag links, and households and persons whose keys
    were taken ahead, ``Ids``): ``COPY … (FORMAT BINARY)`` with the column types set, the cheapest way
    in for the server (no text to parse, no INSERT … SELECT to plan) and for us (psycopg packs each row
    in C; in text format it spent ~5 µs a row looking up how to write each value). JSON goes by orjson."""
    with connection.cursor() as cursor:
        _copy_rows(cursor.cursor, table, columns, types, rows, tail, connection.ops.quote_name)


def _copy_sql(table, columns, qn):
    return f"COPY {qn(table)} ({', '.join(qn(f.column) for f in columns)}) FROM STDIN (FORMAT BINARY)"


def _full_rows(rows, tail, columns):
    """``rows`` with the ``tail`` values added and IP addresses made ``ipaddress`` objects (psycopg's
    binary dumper for inet wants them), as a COPY writes them."""
    import ipaddress

    ip_columns = [i for i, f in enumerate(columns) if f.get_internal_type() == "GenericIPAddressField"]
    tail = tuple(tail)
    if not ip_columns:
        return (((*row, *tail) for row in rows) if tail else rows)

    def converted():
        for row in rows:
            values = [*row, *tail]
            for i in ip_columns:
                values[i] = ipaddress.ip_address(values[i]) if values[i] else None
            yield values

    return converted()


def _copy_rows(raw, table, columns, types, rows, tail, qn):
    from psycopg.types.json import set_json_dumps

    set_json_dumps(_json_dumps, raw)
    with raw.copy(_copy_sql(table, columns, qn)) as copy:
        copy.set_types(types)
        write = copy.write_row
        for row in _full_rows(rows, tail, columns):
            write(row)


def _packed_copy(pipe, connection, table, columns, types, rows, tail):
    """PostgreSQL, pipelined: the rows are packed here, in this thread, in binary COPY format (by
    psycopg's own C row formatter, as ``Copy.write_row`` does); the insert thread only sends the bytes
    and waits for the server, so it holds the GIL for a moment per 128 KiB instead of for every row.
    Packed in the insert thread instead, the commit was no faster than with no thread at all (decision
    0012). The formatter is not public API (psycopg is pinned < 3.4): without it, the insert thread
    packs the rows itself."""
    qn = connection.ops.quote_name
    try:
        from psycopg._copy_base import _binary_signature, _binary_trailer, format_row_binary
        from psycopg.adapt import Transformer
        from psycopg.pq import Format
        from psycopg.types.json import set_json_dumps
    except ImportError:  # pragma: no cover - another psycopg: the insert thread packs
        def copy_in_thread(raw):
            with raw.cursor() as cursor:
                _copy_rows(cursor, table, columns, types, rows, tail, qn)

        return copy_in_thread

    if pipe.packer is None:
        pipe.packer = connection.connection.cursor()  # adapters only: it never runs a statement
        set_json_dumps(_json_dumps, pipe.packer)
    tx = Transformer(pipe.packer)
    registry = pipe.packer.adapters.types
    tx.set_dumper_types([registry.get_oid(t) for t in types], Format.BINARY)
    data = bytearray(_binary_signature)
    for row in _full_rows(rows, tail, columns):
        format_row_binary(row, tx, data)
    data += _binary_trailer
    sql = _copy_sql(table, columns, qn)

    def send(raw):
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(data)

    return send


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
    pipe = _queued(using) if connection.vendor == "postgresql" and not returning else None
    if connection.vendor == "postgresql" and not returning and (len(rows) >= PG_COPY_ROWS or pipe is not None):
        types = _binary_copy_types(columns, connection)
        if types is not None:
            if pipe is not None:
                pipe.copy(connection, meta.db_table, columns, types, rows, extra_values)
                return None
            _binary_copy(connection, meta.db_table, columns, types, rows, extra_values)
            return None
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
            # a column type the binary COPY above does not take (a decimal): COPY in text
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
                pipe = _queued(using)
                if pipe is not None:  # a pipelined block: the insert thread runs it
                    pipe.submit(_multi_row_statements(connection, meta.db_table, columns, prepared))
                    return None
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


class Ids:
    """Primary keys for new rows of one model that a write pass inserts itself, handed out before the
    INSERT: so rows that point at each other (a household and its head, a person and its audit entry)
    go in without ``RETURNING`` and a round trip back — by ``COPY`` on PostgreSQL, ``executemany`` on
    SQLite — and a household can name its head in its own INSERT (the foreign keys are deferred).

    On PostgreSQL the keys come from the table's own sequence (``nextval`` for a block at a time), so
    concurrent writers never meet. On SQLite the write pass holds the database's only write lock for
    its whole transaction (``transaction_mode="IMMEDIATE"``), so the next keys are simply the ones
    after the largest ever used (the table's ``sqlite_sequence`` entry or its largest id, whichever is
    higher, as AUTOINCREMENT does); SQLite moves ``sqlite_sequence`` on by itself as they are inserted.
    Use one ``Ids`` per model within one transaction."""

    def __init__(self, model, *, using=None, ahead=0):
        self.model = model
        self.using = using or router.db_for_write(model)
        self._next, self._sequence = None, None
        # PostgreSQL: how many keys the first ``take`` fetches at least (what the caller expects to need in
        # all): one statement for the whole write pass instead of one per batch and model
        self.ahead, self._pool = ahead, []

    def take(self, n):
        if n <= 0:
            return []
        connection = connections[self.using]
        if not connection.in_atomic_block:
            raise RuntimeError("Ids.take must run inside the transaction that inserts the rows")
        table = self.model._meta.db_table
        column = self.model._meta.pk.column
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if len(self._pool) < n:
                    want = max(n - len(self._pool), self.ahead)
                    self.ahead = 0
                    if self._sequence is None:  # resolved once: per key it cost more than nextval itself
                        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table), column])
                        self._sequence = cursor.fetchone()[0]
                    # one row, one array: 400,000 rows of one key each took ~0.3 s more to fetch
                    cursor.execute("SELECT array_agg(v ORDER BY v) FROM (SELECT nextval(%s::regclass) AS v "
                                   "FROM generate_series(1, %s)) AS keys", [self._sequence, want])
                    self._pool.extend(cursor.fetchone()[0])
                taken, self._pool = self._pool[:n], self._pool[n:]
                return taken
            if connection.vendor != "sqlite":
                raise NotImplementedError(f"Ids: no safe way to take keys ahead on {connection.vendor}")
            if self._next is None:
                qn = connection.ops.quote_name
                cursor.execute(f"SELECT COALESCE(MAX({qn(column)}), 0) FROM {qn(table)}")
                largest = cursor.fetchone()[0]
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                self._next = max(largest, row[0] if row else 0) + 1
        start, self._next = self._next, self._next + n
        return list(range(start, start + n))


KEY_SEPARATOR = "\x1f"  # ASCII unit separator: in no ID hash or 户号 (text cells are cleaned of control characters)


def select_in(sql, keys, *, using="default", chunk=50_000):
    """Rows of ``sql`` — a SELECT whose WHERE says ``<column> {in_keys}`` — for many text keys at once,
    as one parameter per ``chunk`` keys: ``= ANY(string_to_array(…))`` on PostgreSQL, ``IN (SELECT value
    FROM json_each(…))`` on SQLite. ``filter(field__in=keys)`` prepares every key in Python (~2.5 µs a key)
    and sends one placeholder per key; an import looks up every 户号 and ID hash of its file this way."""
    connection = connections[using]
    keys = list(keys)
    if connection.vendor == "postgresql":
        if any(KEY_SEPARATOR in k or not k for k in keys):  # not to be split apart again: an element each
            clause = "= ANY(%s)"

            def param(part):
                return part
        else:
            # the keys as one text split by the server: psycopg adapts a list element by element
            # (~2.5 µs each, 0.8 s of client CPU for a town's 300,000 ID hashes; the join takes 10 ms)
            clause = f"= ANY(string_to_array(%s, chr({ord(KEY_SEPARATOR)})))"

            def param(part):
                return KEY_SEPARATOR.join(part)
    else:
        clause = "IN (SELECT value FROM json_each(%s))"

        def param(part):
            return orjson.dumps(part).decode()
    out = []
    with connection.cursor() as cursor:
        for start in range(0, len(keys), chunk):
            cursor.execute(sql.format(in_keys=clause), [param(keys[start:start + chunk])])
            out.extend(cursor.fetchall())
    return out


class _Pipeline:
    """A second thread that runs ``insert_rows``' inserts on the caller's connection: multi-row INSERTs on
    SQLite, binary COPYs packed by the caller on PostgreSQL (a job is a list of statements or a callable
    taking the DB-API connection)."""

    def __init__(self, connection):
        import queue

        self.connection, self.error, self.cancelled, self.packer = connection, None, False, None
        self.held = {}  # PostgreSQL: (table, columns) -> small inserts held back (``copy``)
        self.switched = False
        self.owner = threading.get_ident()
        self.jobs = queue.Queue(maxsize=PIPELINE_DEPTH)
        connection.execute_wrappers.append(self._before_query)
        self.thread = threading.Thread(target=self._loop, name="bulk-insert", daemon=True)
        self.thread.start()

    def _loop(self):
        raw = self.connection.connection  # the DB-API connection itself (sqlite3: one statement, one call into C)
        while (statements := self.jobs.get()) is not None:
            try:
                if self.error is None and not self.cancelled:
                    with self.connection.wrap_database_errors:
                        if callable(statements):
                            statements(raw)
                        else:
                            for sql, params in statements:
                                raw.execute(sql, params)
            except BaseException as e:  # raised in the owning thread at its next statement or at the end
                self.error = e
            finally:
                self.jobs.task_done()

    def submit(self, statements):
        self._raise()
        self.jobs.put(statements)

    def copy(self, connection, table, columns, types, rows, tail):
        """PostgreSQL: queue a COPY of ``rows``. Fewer than ``PG_COPY_ROWS`` (a batch's tag links) are held
        and sent with later ones of the same table and columns: each COPY costs the insert thread three
        exchanges with the server, each waiting for the GIL, while the server waits for it."""
        if not self.switched:
            import sys

            sys.setswitchinterval(PIPELINE_SWITCH_SECONDS["postgresql"])  # pipelined() restores it
            self.switched = True
        key = (table, tuple(f.column for f in columns))
        held = self.held.get(key)
        if held is None and len(rows) >= PG_COPY_ROWS:
            self.submit(_packed_copy(self, connection, table, columns, types, rows, tail))
            return
        if held is None:
            held = self.held[key] = (connection, table, columns, types, [])
        tail = tuple(tail)
        held[4].extend((*row, *tail) for row in rows)
        if len(held[4]) >= PIPELINE_HELD_ROWS:
            del self.held[key]
            self.submit(_packed_copy(self, *held, ()))

    def _send_held(self):
        held, self.held = self.held, {}
        for entry in held.values():
            self.submit(_packed_copy(self, *entry, ()))

    def drain(self):
        self._send_held()
        self.jobs.join()
        self._raise()

    def _raise(self):
        if self.error is not None:
            error, self.error = self.error, None
            self.cancelled = True
            raise error

    def _before_query(self, execute, sql, params, many, context):
        # the owner's own statements come after the inserts it queued, as if it had sent those itself
        if self.owner == threading.get_ident():
            self.drain()
        return execute(sql, params, many, context)

    def close(self, ok):
        error = None
        if ok:
            try:
                self._send_held()
            except BaseException as e:  # an earlier insert's error, raised by submit
                error, ok = e, False
        if not ok:
            self.cancelled = True
        self.jobs.put(None)
        self.thread.join()
        self.connection.execute_wrappers.remove(self._before_query)
        if error is not None:
            raise error
        if ok:
            self._raise()


PIPELINE_DEPTH = 8  # batches of statements queued at most
PIPELINE_HELD_ROWS = 5000  # PostgreSQL: small inserts of one table held back until this many
# the GIL switch interval within a pipelined block. PostgreSQL, town's commit, alternating pairs: 5 ms
# 14.4 / 16.4 s, 0.2 ms 13.4 / 14.7 s (the server waited on the client ~3 s less; the client used ~1 s
# more CPU)
PIPELINE_SWITCH_SECONDS = {"sqlite": 0.0005, "postgresql": 0.0002}
_pipelines = threading.local()  # alias -> this thread's open pipeline
_statements = {}  # (table, columns) -> the full-size multi-row INSERT, built once per process


def _queued(using):
    return getattr(_pipelines, "open", {}).get(using)


def _multi_row_statements(connection, table, columns, prepared):
    qn = connection.ops.quote_name
    width = len(columns)
    step = _max_rows(connection, width)
    head = f"INSERT INTO {qn(table)} ({', '.join(qn(f.column) for f in columns)}) VALUES "
    one = "(" + ", ".join(["?"] * width) + ")"
    out = []
    for start in range(0, len(prepared), step):
        chunk = prepared[start:start + step]
        if len(chunk) == step:  # only the full size is kept: the last chunk of each batch varies
            key = (table, tuple(f.column for f in columns))
            sql = _statements.get(key) or _statements.setdefault(key, head + ", ".join([one] * step))
        else:
            sql = head + ", ".join([one] * len(chunk))
        out.append((sql, [v for values in chunk for v in values]))
    return out


@contextlib.contextmanager
def pipelined(using="default"):
    """Within this block (inside the caller's transaction), on SQLite, ``insert_rows`` without
    ``RETURNING`` hands its rows, as multi-row INSERTs, to a second thread on the same connection and
    returns at once: SQLite stores one batch (in C, the GIL released for the whole statement) while this
    thread prepares the next in Python, on the other core. ``executemany`` would release and retake the
    GIL for every row, which two busy threads turn into waits. Any other statement of this thread first
    waits for the queued inserts (a Django execute wrapper), so statements run in the order written; an
    insert's error is raised in this thread at its next statement or at the end of the block, which
    returns only once every insert is in. On PostgreSQL the rows are packed for a binary ``COPY`` in this
    thread and the insert thread sends them and waits for the server, which stores one batch while this
    thread prepares the next (the town's commit ≈1.5–2 s faster; decision 0012)."""
    import sys

    connection = connections[using]
    open_here = getattr(_pipelines, "open", None)
    if open_here is None:
        open_here = _pipelines.open = {}
    if connection.vendor not in ("sqlite", "postgresql") or using in open_here:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("pipelined() must run inside the transaction that the rows are written in")
    # the insert thread needs the GIL back for a moment after each statement (SQLite) or each exchange
    # of a COPY with the server (PostgreSQL: start, data, end); by default this thread, busy with Python,
    # would hand it over only every 5 ms — and PostgreSQL's server sat waiting for the next COPY message
    # (PostgreSQL: from the first COPY on; a re-import that finds every row unchanged sends none, and
    # its Python need not be interrupted for a thread that has nothing to do)
    interval = sys.getswitchinterval()
    if connection.vendor == "sqlite":
        sys.setswitchinterval(PIPELINE_SWITCH_SECONDS["sqlite"])
    pipe = open_here[using] = _Pipeline(connection)
    ok = False
    try:
        yield
        ok = True
    finally:
        del open_here[using]
        try:
            pipe.close(ok)
        finally:
            if pipe.packer is not None:
                pipe.packer.close()
            sys.setswitchinterval(interval)


def index_scans_for_deferred_checks(using="default"):
    """PostgreSQL, at the end of a bulk write, just before its COMMIT: the deferred foreign-key checks
    that COMMIT runs (one per row written) are planned with sequential scans off, and plans this
    session made earlier are discarded so that theirs are made again so.

    PostgreSQL plans each foreign key's check once per session and costs pages as if read from disk:
    for a small table (a town's 174 regions in 4 pages, the special-group tags) it chooses to read the
    whole table for every check rather than its primary key index, which costs several times the CPU
    — the town's 200,000 checks of its households' village and grid. With the index its COMMIT took
    ~1.1 s less (4.2–4.7 s against 5.2–5.8 in alternating runs; decision 0012). The setting is the
    transaction's own (``SET LOCAL``): it ends with the COMMIT. A check's query names its table's
    primary key or a unique column, so an index always serves it."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("DISCARD PLANS")
