"""core.linked_insert: a case, its timeline event and its audit entry written as one — the same rows and
values as saving them one by one, ids set on the instances, and all or nothing."""
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.models import Case, CaseEvent, Category
from yiwang.core import audit
from yiwang.core.linked_insert import Ref, insert_together
from yiwang.core.models import AuditEntry

GRID1 = "15062710521501"
pytestmark = pytest.mark.django_db


def _rows(number):
    actions.ensure_default_categories(by=None)
    category, region = Category.objects.get(code="infrastructure-light"), Region.objects.get(code=GRID1)
    at = timezone.now().replace(microsecond=0)
    case = Case(number=number, token="t" * 32, channel=Case.Channel.OPEN311, category=category, region=region,
                region_path=region.path, title="一起写入", description="一起写入：路灯", reported_at=at,
                accept_due=at + datetime.timedelta(hours=24), resolve_due=at + datetime.timedelta(days=7))
    event = CaseEvent(case=case, at=at, by_label="系统", action="create", to_state=case.state, note="一起写入",
                      data={"channel": "open311", "嵌套": [1, "二"]})
    entry = audit.entry("cases.create_case", by="open311:test", obj=case, changes={"region": [None, GRID1]})
    return case, event, entry


def test_the_three_rows_go_in_with_their_links_and_values():
    case, event, entry = _rows("2099010100001")
    with CaptureQueriesContext(connection) as queries:
        insert_together(case, [(event, [Ref("case_id")]), (entry, [Ref("object_id", text=True)])])
    if connection.vendor == "postgresql":  # one statement (in the test's transaction: inside a savepoint)
        assert [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "WITH"))] == [
            queries.captured_queries[1]["sql"]] and queries.captured_queries[1]["sql"].startswith("WITH p AS")
    stored = Case.objects.get(pk=case.pk)
    assert stored.number == "2099010100001" and stored.region.code == GRID1 and stored.reported_at == case.reported_at
    stored_event = CaseEvent.objects.get(pk=event.pk)
    assert stored_event.case_id == case.pk == event.case_id and stored_event.data == {"channel": "open311", "嵌套": [1, "二"]}
    stored_entry = AuditEntry.objects.get(pk=entry.pk)
    assert stored_entry.object_id == str(case.pk) == entry.object_id
    assert stored_entry.model == "cases.Case" and stored_entry.changes == {"region": [None, GRID1]}
    assert stored_entry.at is not None and stored_entry.actor_label == "open311:test"


def test_a_failure_writes_none_of_them_and_leaves_the_transaction_usable():
    first, event, entry = _rows("2099010100002")
    insert_together(first, [(event, [Ref("case_id")]), (entry, [Ref("object_id", text=True)])])
    before = Case.objects.count(), CaseEvent.objects.count(), AuditEntry.objects.count()
    clash, event, entry = _rows("2099010100002")  # the same number: the unique key refuses the case
    with pytest.raises(IntegrityError):
        insert_together(clash, [(event, [Ref("case_id")]), (entry, [Ref("object_id", text=True)])])
    assert (Case.objects.count(), CaseEvent.objects.count(), AuditEntry.objects.count()) == before


def test_no_one_listens_to_the_saves_it_skips():
    """The PostgreSQL path sends no post_save: nothing may depend on one for these models."""
    for model in (Case, CaseEvent, AuditEntry):
        assert not post_save.has_listeners(model), model
