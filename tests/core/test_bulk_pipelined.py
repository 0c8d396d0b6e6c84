"""``core.bulk.pipelined``: the inserts of ``insert_rows`` run on a second thread (multi-row INSERTs on
SQLite, binary COPYs packed by the caller on PostgreSQL); what the caller sees must be exactly what it
would see without it — its own later statements find the rows, the values stored are the same, an
insert's error reaches the caller and the transaction rolls back whole."""
import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from yiwang.core import bulk
from yiwang.people.models import Tag


def rows(prefix, n):
    return [(f"{prefix}-{i}", f"{prefix}标签{i}", "person") for i in range(n)]


def test_a_query_after_queued_inserts_sees_them(db):
    with transaction.atomic(), bulk.pipelined():
        for start in range(3):  # several batches queued one after the other
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows(f"pipe{start}", 2500))
        # an ORM read in the same thread waits for the queue: all 7,500 rows are there
        assert Tag.objects.filter(code__startswith="pipe").count() == 7500
        bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("late", 10))
    assert Tag.objects.filter(code__startswith="late").count() == 10  # the block ended with its inserts in
    assert bulk._queued("default") is None


def test_an_insert_error_reaches_the_caller_and_nothing_stays(db):
    before = Tag.objects.count()
    with pytest.raises(IntegrityError):
        with transaction.atomic(), bulk.pipelined():
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("dup", 100))
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("dup", 100))  # the same codes again
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("after", 100))
    assert Tag.objects.count() == before
    assert not Tag.objects.filter(code__startswith="after").exists()
    assert bulk._queued("default") is None and connection.execute_wrappers == []


def test_a_block_left_by_an_exception_rolls_back_what_it_queued(db):
    before = Tag.objects.count()
    with pytest.raises(RuntimeError, match="stop"):
        with transaction.atomic(), bulk.pipelined():
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("gone", 3000))
            raise RuntimeError("stop")
    assert Tag.objects.count() == before


def test_small_inserts_held_back_are_there_for_the_next_query_and_their_errors_reach_the_caller(db):
    """On PostgreSQL inserts of fewer than PG_COPY_ROWS rows are held and sent together: a later query
    of this thread still finds them, and a duplicate among them still fails the block."""
    with transaction.atomic(), bulk.pipelined():
        for start in range(5):
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows(f"small{start}", 7))
        assert Tag.objects.filter(code__startswith="small").count() == 35
    before = Tag.objects.count()
    with pytest.raises(IntegrityError):
        with transaction.atomic(), bulk.pipelined():
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("twice", 5))
            bulk.insert_rows(Tag, ["code", "name", "applies_to"], rows("twice", 5))
    assert Tag.objects.count() == before
    assert bulk._queued("default") is None and connection.execute_wrappers == []


AUDIT_FIELDS = ["at", "actor_label", "ip", "channel", "action", "model", "object_id", "object_repr", "region_path",
                "changes", "allowed", "reason"]


def audit_rows(tag):
    at = datetime.datetime(2026, 12, 7, 8, 30, 15, 123456, tzinfo=datetime.timezone.utc)
    return [(at + datetime.timedelta(seconds=i), "张三", "10.0.0.%d" % (i % 250) if i % 3 else None, "import",
             f"{tag}.action", "people.Person", str(i), f"对象 {i} <b>'\"", "/15/1506/",
             {"name": [None, f"李四{i}"], "n": i, "nested": {"x": [1.5, True, None]}}, i % 2 == 0, "")
            for i in range(450)]


def stored(tag):
    from yiwang.core.models import AuditEntry

    return [tuple(str(v) if f == "ip" and v is not None else v for f, v in zip(AUDIT_FIELDS, row))
            for row in AuditEntry.objects.filter(action=f"{tag}.action").order_by("object_id").values_list(*AUDIT_FIELDS)]


def test_values_of_every_column_type_are_stored_as_without_the_thread(db):
    """Dates and times, IP addresses, JSON, booleans, NULLs and hostile text: the pipelined insert (on
    PostgreSQL, packed by this thread for the COPY the insert thread sends) stores what the plain one does."""
    from yiwang.core.models import AuditEntry

    with transaction.atomic():
        bulk.insert_rows(AuditEntry, AUDIT_FIELDS, audit_rows("plain"))
    with transaction.atomic(), bulk.pipelined():
        bulk.insert_rows(AuditEntry, AUDIT_FIELDS, audit_rows("piped"))
        assert bulk._queued("default") is not None  # the insert went to the thread
    plain, piped = stored("plain"), stored("piped")
    assert len(plain) == len(piped) == 450
    assert [r[:4] + r[5:] for r in plain] == [r[:4] + r[5:] for r in piped]  # all but the action
    assert piped[1][2] == "10.0.0.1" and piped[0][2] is None and piped[7][9]["nested"] == {"x": [1.5, True, None]}
