"""Audit cases of the grid actions (loaded by tests/test_audit.py): each done over a page or directly
with the client's IP, each refused for a user one village away (or without grid.change), changing nothing."""
import datetime

import pytest
from test_audit import DIRECT_IP, HTTP_IP, WLNE, Expect, client_for, region, send

from yiwang.core.context import request_context
from yiwang.core.errors import PermissionRefused
from yiwang.grid import actions
from yiwang.grid.models import GridWorker, Pairing, Visit
from yiwang.people.models import Household, Person

GRID1 = "15062710521501"
TODAY = datetime.date.today()


def state():
    return {
        "grid_workers": list(GridWorker.objects.order_by("pk").values_list(
            "pk", "grid_id", "kind", "start_date", "end_date", "user_id", "updated_at")),
        "grid_worker_grids": sorted(GridWorker.grids.through.objects.values_list("gridworker_id", "region_id")),
        "pairings": list(Pairing.objects.order_by("pk").values_list("pk", "household_id", "worker_id", "end_date")),
        "visits": list(Visit.objects.order_by("pk").values_list("pk", "case_id")),
    }


def _worker():
    return GridWorker.objects.filter(grid__code=GRID1, end_date__isnull=True).order_by("pk").first()


def _free_person():
    taken = GridWorker.objects.filter(end_date__isnull=True).values("person")
    return (Person.objects.filter(household__village__code=WLNE, status="living", birth_date__lte=datetime.date(2000, 1, 1))
            .exclude(pk__in=taken).order_by("pk").first())


def _paired_household():
    return Pairing.objects.filter(worker=_worker(), end_date__isnull=True).order_by("pk").first().household


def _unpaired_household():
    current = Pairing.objects.filter(end_date__isnull=True).values("household")
    return Household.objects.filter(village__code=WLNE).exclude(pk__in=current).order_by("pk").first()


def create_worker_done(u):
    person, grid = _free_person(), region(GRID1)
    with request_context(ip=DIRECT_IP):
        worker = actions.create_worker(person=person, grid=grid, kind="full_time", start_date=TODAY,
                                       by=u("wlne_secretary"))
    return Expect("grid.create_worker", worker, u("wlne_secretary"),
                  {"grid": [None, str(grid.pk)], "kind": [None, "full_time"], "grids": [None, [GRID1]]}, DIRECT_IP)


def create_worker_refused(u):
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.create_worker(person=_free_person(), grid=region(GRID1), by=u("nlxl_secretary"))
    return Expect("grid.create_worker", None, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)


def update_worker_done(u):
    worker = _worker()
    new_kind = "full_time" if worker.kind == "part_time" else "part_time"
    codes = list(worker.grids.values_list("code", flat=True))
    r = send(client_for(u("wlne_secretary")), "POST", f"/grid/workers/{worker.pk}/edit/",
             {"kind": new_kind, "grids": codes, "end_date": ""})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    return Expect("grid.update_worker", worker, u("wlne_secretary"), {"kind": [worker.kind, new_kind]}, HTTP_IP)


def update_worker_refused(u):
    worker = _worker()
    with pytest.raises(PermissionRefused):
        actions.update_worker(worker, end_date=TODAY, by=u("nlxl_secretary"))
    return Expect("grid.update_worker", worker, u("nlxl_secretary"), allowed=False)


def pair_household_done(u):
    household, worker = _unpaired_household(), _worker()
    r = send(client_for(u("wlne_secretary")), "POST", f"/grid/households/{household.pk}/pair/",
             {"worker": worker.pk, "start_date": TODAY.isoformat()})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    pairing = Pairing.objects.get(household=household, end_date__isnull=True)
    return Expect("grid.pair_household", pairing, u("wlne_secretary"),
                  {"worker": [None, str(worker.pk)], "start_date": [None, TODAY.isoformat()]}, HTTP_IP)


def pair_household_refused(u):
    household = _unpaired_household()
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.pair_household(household, _worker(), by=u("nlxl_secretary"))
    return Expect("grid.pair_household", household, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)


def unpair_household_done(u):
    household = _paired_household()
    pairing = Pairing.objects.get(household=household, end_date__isnull=True)
    r = send(client_for(u("wlne_secretary")), "POST", f"/grid/households/{household.pk}/unpair/",
             {"end_date": TODAY.isoformat()})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    return Expect("grid.unpair_household", pairing, u("wlne_secretary"), {"end_date": [None, TODAY.isoformat()]},
                  HTTP_IP)


def unpair_household_refused(u):
    household = _paired_household()
    with pytest.raises(PermissionRefused):
        actions.unpair_household(household, by=u("nlxl_secretary"))
    return Expect("grid.unpair_household", household, u("nlxl_secretary"), allowed=False)


def record_visit_done(u):
    household = _paired_household()
    r = send(client_for(u("wlne_grid1")), "POST", f"/grid/households/{household.pk}/visit/",
             {"date": TODAY.isoformat(), "kind": "follow_up", "findings": "审计走访"})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    visit = Visit.objects.filter(household=household).order_by("-pk").first()
    return Expect("grid.record_visit", visit, u("wlne_grid1"),
                  {"kind": [None, "follow_up"], "date": [None, TODAY.isoformat()]}, HTTP_IP)


def record_visit_refused(u):
    household = _paired_household()  # the banner viewer sees it, but holds no grid.change
    r = send(client_for(u("banner_viewer")), "POST", f"/grid/households/{household.pk}/visit/",
             {"date": TODAY.isoformat(), "kind": "routine", "findings": "越权", "worker": _worker().pk})
    assert r.status_code == 403, r.status_code
    return Expect("grid.record_visit", household, u("banner_viewer"), ip=HTTP_IP, allowed=False)


def _visit_with_finding():
    return Visit.objects.filter(worker=_worker(), case__isnull=True).exclude(findings="").order_by("pk").first()


def visit_to_case_done(u):
    from yiwang.cases.models import Category

    visit = _visit_with_finding()
    category = Category.objects.filter(active=True).order_by("pk").first()
    r = send(client_for(u("wlne_grid1")), "POST", f"/grid/visits/{visit.pk}/case/",
             {"category": category.pk, "description": visit.findings})
    assert r.status_code == 302, r.context["form"].errors if r.context else r.status_code
    visit.refresh_from_db()
    return Expect("grid.visit_to_case", visit, u("wlne_grid1"), {"case": [None, str(visit.case_id)]}, HTTP_IP)


def visit_to_case_refused(u):
    from yiwang.cases.models import Category

    visit = _visit_with_finding()
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        actions.visit_to_case(visit, category=Category.objects.filter(active=True).first(), by=u("nlxl_secretary"))
    return Expect("grid.visit_to_case", visit, u("nlxl_secretary"), ip=DIRECT_IP, allowed=False)


CASES = {
    "yiwang.grid.actions.visit_to_case": (visit_to_case_done, visit_to_case_refused),
    "yiwang.grid.actions.create_worker": (create_worker_done, create_worker_refused),
    "yiwang.grid.actions.update_worker": (update_worker_done, update_worker_refused),
    "yiwang.grid.actions.pair_household": (pair_household_done, pair_household_refused),
    "yiwang.grid.actions.unpair_household": (unpair_household_done, unpair_household_refused),
    "yiwang.grid.actions.record_visit": (record_visit_done, record_visit_refused),
}
