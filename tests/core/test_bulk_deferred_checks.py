"""``core.bulk.index_scans_for_deferred_checks``: the foreign-key checks a bulk write leaves to COMMIT
read the referenced row through its index, whatever plan the session had cached for them — not the
whole referenced table once per row written (PostgreSQL's choice for a small table such as the
regions; decision 0012). PostgreSQL only: SQLite has no plans to cache."""
import datetime

import pytest
from django.db import connection, transaction

from yiwang.areas.models import Region
from yiwang.core import bulk
from yiwang.people.models import Household

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's foreign-key check plans")


def region_seq_scans(cursor):
    cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = %s::regclass",
                   [Region._meta.db_table])
    return cursor.fetchone()[0]


def add_households(village, prefix, n):
    for i in range(n):
        Household.objects.create(number=f"{prefix}{i:04d}", village=village, region_path=village.path,
                                 registered_on=datetime.date(2024, 1, 1))


def run_deferred_checks(cursor):
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does: the pending checks run now
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_the_checks_left_to_commit_use_the_index_even_if_a_scan_was_cached(db):
    village = Region.objects.filter(kind="village").order_by("code").first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Region._meta.db_table}")  # the planner sees the regions as they are: a few pages
        # an earlier write of this session had its checks planned as sequential scans
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("DISCARD PLANS")
        add_households(village, "DCHK-A", 10)  # past the five custom plans: the generic one is kept
        before = region_seq_scans(cursor)
        run_deferred_checks(cursor)
        assert region_seq_scans(cursor) > before  # the cached plan reads the whole table
        cursor.execute("SET LOCAL enable_indexscan = on")
        cursor.execute("SET LOCAL enable_bitmapscan = on")

        add_households(village, "DCHK-B", 30)
        bulk.index_scans_for_deferred_checks()
        before = region_seq_scans(cursor)
        run_deferred_checks(cursor)
        assert region_seq_scans(cursor) == before  # 30 checks of the village, none a scan of the regions
        transaction.set_rollback(True)
