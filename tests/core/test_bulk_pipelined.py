"""``core.bulk.pipelined``: on SQLite the inserts of ``insert_rows`` run on a second thread; what the
caller sees must be exactly what it would see without it — its own later statements find the rows, an
insert's error reaches the caller and the transaction rolls back whole. (On PostgreSQL the block does
nothing; the same tests hold there.)"""
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

