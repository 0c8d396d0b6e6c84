"""Import jobs whose worker died are shown and stored as failed, and the user can start again.

A job 排队中 / 检查中 / 导入中 whose task has written no progress (``heartbeat_at``; ``created_at`` when
it never started) for ``EXCHANGE_STALE_MINUTES`` lost its worker. Here the old heartbeat is a real
one, set back in the row (the killed-process case is tests/exchange/test_exchange_crash.py); the sweep
runs when a job page, its poll or the job list is opened, from ``yiwang exchange sweep`` and from beat.
"""
import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from exchange_kit import household_rows, last_audit_pk, registry, xlsx

from yiwang.core.models import AuditEntry
from yiwang.exchange import actions, tasks
from yiwang.exchange.models import ImportJob
from yiwang.people.models import Household

REASON = "后台任务中断，数据未改变，请重新导入"


@pytest.fixture
def make_job(demo_user):
    user = demo_user("wlne_secretary")

    def make(prefix, status, *, silent_minutes, created_minutes_ago=None):
        from yiwang.areas.models import Region

        job = actions.upload(sheet_key="households", data=xlsx(household_rows(prefix, 2)), name=f"{prefix}.xlsx",
                             region=Region.objects.get(code="150627105215"), by=user)
        now = timezone.now()
        heartbeat = None if silent_minutes is None else now - datetime.timedelta(minutes=silent_minutes)
        created = now - datetime.timedelta(minutes=created_minutes_ago or (silent_minutes or 0) + 1)
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, heartbeat_at=heartbeat, created_at=created,
            progress={"phase": "write", "done": 2000, "total": 4, "at": 1.0})
        return ImportJob.objects.get(pk=job.pk)

    return make


def test_a_job_silent_too_long_is_failed_on_its_page_and_can_be_uploaded_again(make_job, login, settings):
    settings.EXCHANGE_STALE_MINUTES = 10
    job = make_job("STALEPAGE", ImportJob.Status.COMMITTING, silent_minutes=11)
    before, since = registry(), last_audit_pk()
    client = login("wlne_secretary")
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="failed"' in html and REASON in html
    assert 'id="progress"' not in html  # no bar that would poll forever
    assert 'id="upload-again"' in html  # start again: the upload page for the same sheet
    job.refresh_from_db()
    assert job.status == "failed" and job.file_error == REASON and job.finished
    entry = AuditEntry.objects.get(pk__gt=since, action="exchange.interrupted")
    assert entry.object_id == str(job.pk) and entry.changes == {"status": ["committing", "failed"]}
    assert registry() == before
    # a failed job is not confirmed by mistake afterwards
    assert client.post(f"/exchange/jobs/{job.pk}/commit/").status_code == 302
    job.refresh_from_db()
    assert job.status == "failed"


def test_the_poll_of_a_silent_job_stops_and_reloads_the_page(make_job, login):
    job = make_job("STALEPOLL", ImportJob.Status.CHECKING, silent_minutes=30)
    response = login("wlne_secretary").get(f"/exchange/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    job.refresh_from_db()
    assert job.status == "failed"


def test_only_running_jobs_silent_past_the_limit_are_failed(make_job, login, settings):
    settings.EXCHANGE_STALE_MINUTES = 10
    alive = make_job("STALEALIVE", ImportJob.Status.COMMITTING, silent_minutes=2, created_minutes_ago=60)
    checking = make_job("STALECHECK", ImportJob.Status.CHECKING, silent_minutes=10.5)
    never_started = make_job("STALEQUEUE", ImportJob.Status.QUEUED, silent_minutes=None, created_minutes_ago=15)
    just_uploaded = make_job("STALENEW", ImportJob.Status.QUEUED, silent_minutes=None, created_minutes_ago=1)
    previewed = make_job("STALEPREV", ImportJob.Status.CHECKED, silent_minutes=600)
    done = make_job("STALEDONE", ImportJob.Status.COMMITTED, silent_minutes=600)
    # the job list sweeps every job, whoever's page it is
    assert login("town_admin").get("/exchange/").status_code == 200
    status = dict(ImportJob.objects.filter(pk__in=[j.pk for j in (alive, checking, never_started, just_uploaded,
                                                                    previewed, done)]).values_list("pk", "status"))
    assert status == {alive.pk: "committing", checking.pk: "failed", never_started.pk: "failed",
                      just_uploaded.pk: "queued", previewed.pk: "checked", done.pk: "committed"}


def test_the_sweep_command_and_the_task(make_job, capsys, settings):
    settings.EXCHANGE_STALE_MINUTES = 10
    first = make_job("STALECMD", ImportJob.Status.COMMITTING, silent_minutes=12)
    call_command("exchange", "sweep")
    assert f"已标为失败的导入 failed: 1（#{first.pk}）" in capsys.readouterr().out
    second = make_job("STALECMD2", ImportJob.Status.CHECKING, silent_minutes=3)
    assert tasks.sweep_stale_jobs() == []  # 3 minutes is within the limit ...
    assert tasks.sweep_stale_jobs(older_than=120) == [second.pk]  # ... and past a limit of 2
    assert tasks.sweep_stale_jobs(older_than=0) == []  # nothing left running
    assert "exchange-stale-sweep" in settings.CELERY_BEAT_SCHEDULE


def test_a_failed_job_that_reaches_a_worker_late_is_left_alone(make_job, demo_user):
    job = make_job("STALELATE", ImportJob.Status.QUEUED, silent_minutes=None, created_minutes_ago=30)
    assert tasks.sweep_stale_jobs() == [job.pk]
    assert tasks.run_job(job.pk, demo_user("wlne_secretary").pk, False) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.checked_at is None
    assert not Household.objects.filter(number__startswith="STALELATE").exists()
