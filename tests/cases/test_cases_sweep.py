"""The SLA sweep: "deadline near" and "overdue" are recorded once per deadline however often the sweep
runs (twice in a row, and from two threads at once on PostgreSQL); an approved extension gives a new
"overdue" only once the new deadline has passed; demo cases are never notified; delivery marks rows
sent, and a failing sender marks them failed with its reason. Also the throttled inline trigger of the
embedded default, and the ``yiwang cases sweep`` command."""
import datetime
import json
import threading

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from yiwang.areas.models import Region
from yiwang.cases import actions, notify, tasks
from yiwang.cases.models import Case, Category, Notification

GRID1 = "15062710521501"


class FailingSender:
    """A gateway that is down."""

    channel = "sms"

    def send(self, notification):
        raise ConnectionError("短信网关无响应")


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def make_case(db, now):
    actions.ensure_default_categories(by=None)
    grid = Region.objects.get(code=GRID1)
    light = Category.objects.get(code="infrastructure-light")  # 168 h to resolve, red warning at 80 %

    def make(hours_ago, *, accept=True):
        case = actions.create_case(category=light, region=grid, description="路灯不亮", by=None,
                                   reported_at=now - datetime.timedelta(hours=hours_ago))
        if accept:
            actions.accept_case(case, by=None, at=case.reported_at + datetime.timedelta(hours=1))
        return case

    return make


def kinds(case):
    return sorted(Notification.objects.filter(case=case).values_list("kind", flat=True))


def test_each_message_is_recorded_once_however_often_the_sweep_runs(make_case, now):
    near, late, fresh = make_case(150), make_case(200), make_case(10)  # 89 % used, past due, 6 % used
    first = notify.sweep(now)
    assert (first["deadline_near"], first["overdue"]) == (1, 1)
    second = notify.sweep(now + datetime.timedelta(minutes=5))
    assert (second["deadline_near"], second["overdue"]) == (0, 0)
    assert kinds(near) == ["deadline_near"] and kinds(late) == ["overdue"] and kinds(fresh) == []
    message = Notification.objects.get(case=late)
    assert late.number in message.body and "已超过办结时限" in message.body
    assert message.recipient_label == "网格级值班"  # no named handler: the grid's queue


def test_an_extension_gives_a_new_overdue_only_when_the_new_deadline_passes(make_case, now):
    case = make_case(200)
    notify.sweep(now)
    assert kinds(case) == ["overdue"]
    extension = actions.request_extension(case, by=None, hours=100, reason="等待配件", at=now)
    actions.decide_extension(extension, by=None, approve=True, at=now)  # due now 268 h after the report
    assert notify.sweep(now)["overdue"] == 0  # 200 / 268 h used: not even red
    assert kinds(case) == ["overdue"]
    later = notify.sweep(now + datetime.timedelta(hours=20))  # 220 / 268 = 82 %: red for the new deadline
    assert (later["deadline_near"], later["overdue"]) == (1, 0)
    passed = notify.sweep(now + datetime.timedelta(hours=70))  # 270 h: past the new deadline
    assert passed["overdue"] == 1
    assert notify.sweep(now + datetime.timedelta(hours=75))["overdue"] == 0
    assert kinds(case) == ["deadline_near", "overdue", "overdue"]
    keys = set(Notification.objects.filter(case=case, kind="overdue").values_list("key", flat=True))
    assert len(keys) == 2  # one per deadline


def test_demo_cases_are_not_notified(db, now):
    demo_open = Case.objects.filter(is_demo=True, state__in=Case.OPEN_STATES)
    assert demo_open.count() > 5 and all(c.is_overdue(now) for c in demo_open.select_related("category"))
    notify.sweep(now)
    assert not Notification.objects.filter(case__is_demo=True).exists()


def test_delivery_marks_rows_sent(make_case, now):
    case = make_case(200)
    counts = notify.sweep(now)
    row = Notification.objects.get(case=case)
    assert counts["sent"] >= 1
    assert row.status == Notification.Status.SENT and row.sent_at == now and row.channel == "outbox"
    assert row.attempts == 1 and row.error == ""


def test_a_failing_sender_marks_the_row_failed_with_the_reason(make_case, now):
    case = make_case(200)
    with override_settings(CASES_NOTIFICATION_SENDERS=[f"{__name__}.FailingSender"]):
        counts = notify.sweep(now)
    row = Notification.objects.get(case=case)
    assert counts["sent"] == 0
    assert row.status == Notification.Status.FAILED and row.error == "短信网关无响应" and row.sent_at is None
    assert notify.sweep(now)["overdue"] == 0  # recorded once; a failed row is not re-recorded


def test_the_sweep_command_prints_counts(make_case, now, capsys):
    make_case(200)
    call_command("cases", "sweep")
    out = capsys.readouterr().out
    assert "超时提醒 overdue: 1" in out and "已发送 sent: 1" in out
    call_command("cases", "sweep", "--format", "json")
    counts = json.loads(capsys.readouterr().out)
    assert counts["overdue"] == 0 and counts["failed"] == 0 and counts["pending"] == 0


def test_the_celery_task_runs_the_same_sweep(make_case, now):
    case = make_case(200)
    assert tasks.sweep.apply().get()["overdue"] == 1  # eager on the embedded default, a worker in production
    assert kinds(case) == ["overdue"]


def test_inline_trigger_never_runs_inside_a_transaction(db):
    cache.delete(tasks.CLAIM_KEY)
    assert connection.in_atomic_block
    assert tasks.sweep_after_request() is None
    assert cache.get(tasks.CLAIM_KEY) is None  # not even claimed


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """No test transaction: what the test writes is committed (and removed at the end)."""
    django_db_blocker.unblock()
    made = []
    try:
        yield made
    finally:
        for case in made:
            Notification.objects.filter(case=case).delete()
            case.extensions.all().delete()
            Case.objects.filter(pk=case.pk).delete()
        cache.delete(tasks.CLAIM_KEY)
        django_db_blocker.restore()


def _committed_case(made, hours_ago):
    actions.ensure_default_categories(by=None)
    case = actions.create_case(category=Category.objects.get(code="infrastructure-light"),
                               region=Region.objects.get(code=GRID1), description="巡检测试", by=None,
                               reported_at=timezone.now() - datetime.timedelta(hours=hours_ago))
    made.append(case)
    actions.accept_case(case, by=None, at=case.reported_at + datetime.timedelta(hours=1))  # only the resolve deadline
    return case


def test_inline_trigger_sweeps_at_most_once_per_interval(committed):
    case = _committed_case(committed, 200)
    cache.delete(tasks.CLAIM_KEY)
    assert tasks.sweep_after_request()["overdue"] == 1
    assert tasks.sweep_after_request() is None  # claimed for the next 5 minutes
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0"):
        cache.delete(tasks.CLAIM_KEY)
        assert tasks.sweep_after_request() is None  # beat does it in production
    assert kinds(case) == ["overdue"]


def test_two_sweeps_at_once_record_and_send_once(committed):
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need a server database (SQLite serialises writers)")
    case = _committed_case(committed, 200)
    near = _committed_case(committed, 150)
    barrier, results, errors = threading.Barrier(2), [], []
    at = timezone.now()

    def sweep():
        from django.db import connection as conn

        try:
            barrier.wait()
            results.append(notify.sweep(at))
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert sum(r["overdue"] for r in results) == 1 and sum(r["deadline_near"] for r in results) == 1
    assert sum(r["sent"] for r in results) == 2  # each row delivered by exactly one of them
    assert kinds(case) == ["overdue"] and kinds(near) == ["deadline_near"]
    assert set(Notification.objects.filter(case__in=[case, near]).values_list("status", flat=True)) == {"sent"}
