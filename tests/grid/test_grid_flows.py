"""Grid workers, pairings and visits on the demo town: pairing history and the one-current rule, scope
(another village's worker is 404, another village's household refused with a Chinese message and nothing
changed), visits with a real photo and with a renamed executable, the 未走访 list, the demo's figures
(470 / 437 / 3387 as of 2023-06-30) and the Excel round trip of both grid sheets."""
import datetime
import io
import json
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from PIL import Image

from yiwang.areas.models import Region
from yiwang.core.errors import ActionError
from yiwang.core.models import AuditEntry
from yiwang.core.periods import Period
from yiwang.grid import actions
from yiwang.grid.models import GridWorker, Pairing, Visit
from yiwang.insights import registry
from yiwang.people.models import Household

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exchange"))
from exchange_kit import read_rows, run  # noqa: E402

TOWN, WLNE, NLXL, GRID1 = "150627105", "150627105215", "150627105214", "15062710521501"
TODAY = datetime.date.today()


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def region(code):
    return Region.objects.get(code=code)


def worker_in(code):
    return GridWorker.objects.filter(region_path__startswith=region(code).path, end_date__isnull=True).order_by("pk").first()


def grid_rows():
    return (list(GridWorker.objects.order_by("pk").values_list("pk", "grid_id", "kind", "end_date", "updated_at")),
            list(Pairing.objects.order_by("pk").values_list("pk", "household_id", "worker_id", "start_date", "end_date")),
            Visit.objects.count())


def png_bytes(size=(64, 48)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


def upload(name, data, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


# --------------------------------------------------------------------------- pairing


def test_repairing_ends_the_old_pairing_and_keeps_history(demo_user):
    user = demo_user("wlne_secretary")
    current = Pairing.objects.filter(household__village__code=WLNE, end_date__isnull=True).order_by("pk").first()
    household = current.household
    other = (GridWorker.objects.filter(grids__parent=household.village, end_date__isnull=True)
             .exclude(pk=current.worker_id).order_by("pk").first())
    new = actions.pair_household(household, other, start_date=TODAY, by=user)
    current.refresh_from_db()
    assert current.end_date == TODAY
    history = list(Pairing.objects.filter(household=household).order_by("start_date", "pk"))
    assert history[-1] == new and new.end_date is None and len(history) >= 2
    assert Pairing.objects.filter(household=household, end_date__isnull=True).count() == 1
    # the page shows the history, the old worker included
    body = client_for(user).get(f"/grid/households/{household.pk}/").content.decode()
    assert current.worker.person.name in body and other.person.name in body
    # pairing again with the same worker is refused in Chinese
    with pytest.raises(ActionError) as e:
        actions.pair_household(household, other, by=user)
    assert e.value.field == "worker" and "已与" in e.value.text


def test_the_database_allows_one_current_pairing_per_household(db):
    current = Pairing.objects.filter(end_date__isnull=True).order_by("pk").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(household=current.household, worker=current.worker, start_date=TODAY)
    # ended pairings are history: any number of them
    Pairing.objects.create(household=current.household, worker=current.worker, start_date=TODAY, end_date=TODAY)


def test_demo_shows_repairings_with_history(db):
    from django.db.models import Count

    repaired = Pairing.objects.values("household").annotate(n=Count("pk")).filter(n__gt=1)
    assert repaired.count() >= 10
    assert Pairing.objects.filter(end_date__isnull=True).values("household").count() == 3387


def test_unpaired_households_list_and_unpair(demo_user):
    user = demo_user("wlne_secretary")
    client = client_for(user)
    pairing = Pairing.objects.filter(household__village__code=WLNE, end_date__isnull=True).order_by("pk").first()
    number = pairing.household.number

    def listed():
        r = client.get("/grid/unpaired/", {"q": number})
        return [h.number for h in r.context["table"].page.object_list.data]

    assert number not in listed()
    r = client.post(f"/grid/households/{pairing.household_id}/unpair/", {"end_date": TODAY.isoformat()})
    assert r.status_code == 302
    assert number in listed()
    with pytest.raises(ActionError) as e:
        actions.unpair_household(pairing.household, by=user)
    assert "没有结对" in e.value.text


# --------------------------------------------------------------------------- scope


def test_another_villages_worker_is_404(demo_user):
    client = client_for(demo_user("wlne_secretary"))
    theirs = worker_in(NLXL)
    for url in (f"/grid/workers/{theirs.pk}/", f"/grid/workers/{theirs.pk}/edit/", f"/api/grid-workers/{theirs.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/grid/workers/{worker_in(WLNE).pk}/").status_code == 200


def test_a_household_of_another_village_is_refused_and_nothing_changes(demo_user):
    town_admin, secretary = demo_user("town_admin"), demo_user("wlne_secretary")
    theirs = Household.objects.filter(village__code=NLXL).order_by("pk").first()
    worker = worker_in(WLNE)
    before = grid_rows()
    with pytest.raises(ActionError) as e:  # a town user sees both villages: the rule itself refuses
        actions.pair_household(theirs, worker, by=town_admin)
    assert e.value.field == "household" and "不在网格员" in e.value.text and theirs.number in e.value.text
    with pytest.raises(ActionError) as e:
        actions.record_visit(household=theirs, worker=worker, by=town_admin)
    assert e.value.field == "worker" and "既未与户" in e.value.text
    # the village secretary cannot even name it: the page is 404, the API reads it as missing
    client = client_for(secretary)
    assert client.post(f"/grid/households/{theirs.pk}/pair/", {"worker": worker.pk}).status_code == 404
    r_theirs = client.post("/api/pairings/", {"household": theirs.number, "worker": worker.pk},
                           content_type="application/json")
    r_none = client.post("/api/pairings/", {"household": "NO-SUCH", "worker": worker.pk},
                         content_type="application/json")
    assert r_theirs.status_code == r_none.status_code == 400
    assert r_theirs.json() == json.loads(r_none.content.decode().replace("NO-SUCH", theirs.number))
    assert grid_rows() == before


# --------------------------------------------------------------------------- visits


def test_a_visit_with_a_real_photo_from_the_phone_form(demo_user):
    user = demo_user("wlne_grid1")
    client = client_for(user)
    worker = GridWorker.objects.get(user=user)
    household = Pairing.objects.filter(worker=worker, end_date__isnull=True).order_by("pk").first().household
    page = client.get("/grid/mine/").content.decode()
    assert household.number in page and f"/grid/households/{household.pk}/visit/" in page
    form = client.get(f"/grid/households/{household.pk}/visit/").content.decode()
    assert 'accept="image/*"' in form and 'capture="environment"' in form and "navigator.geolocation" in form
    r = client.post(f"/grid/households/{household.pk}/visit/", {
        "date": TODAY.isoformat(), "kind": "special_group", "findings": "屋顶漏雨", "latitude": "39.181234",
        "longitude": "109.561234", "photo": upload("IMG_0001.png", png_bytes((800, 600)), "image/png")})
    assert r.status_code == 302 and r["Location"] == "/grid/mine/"
    visit = Visit.objects.filter(household=household).order_by("-pk").first()
    assert (visit.worker, visit.kind, visit.findings, str(visit.latitude)) == (worker, "special_group", "屋顶漏雨",
                                                                             "39.181234")
    assert visit.photo and visit.thumbnail and visit.region_path == household.region_path
    thumb = client.get(f"/grid/visits/{visit.pk}/thumb/")
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as img:
        assert max(img.size) <= 320
    assert client_for(demo_user("nlxl_secretary")).get(f"/grid/visits/{visit.pk}/photo/").status_code == 404
    # the page lists it as visited today
    assert TODAY.strftime("%Y-%m-%d") in client.get("/grid/mine/").content.decode()


def test_a_renamed_executable_is_refused_and_nothing_written(demo_user, settings):
    user = demo_user("wlne_grid1")
    worker = GridWorker.objects.get(user=user)
    household = Pairing.objects.filter(worker=worker, end_date__isnull=True).order_by("pk").first().household
    media = Path(settings.MEDIA_ROOT)
    files_before = sorted(p for p in media.rglob("*") if p.is_file())
    before, since = grid_rows(), AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    r = client_for(user).post(f"/grid/households/{household.pk}/visit/", {
        "date": TODAY.isoformat(), "kind": "routine", "findings": "x",
        "photo": upload("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,
                        "image/jpeg")})
    assert r.status_code == 200
    errors = r.context["form"].errors["photo"]
    assert any("不是图片" in e for e in errors), errors
    assert grid_rows() == before
    assert not AuditEntry.objects.filter(pk__gt=since, action="grid.record_visit", allowed=True).exists()
    assert sorted(p for p in media.rglob("*") if p.is_file()) == files_before


def test_a_visit_by_a_worker_not_in_office_or_not_serving_is_refused(demo_user):
    user = demo_user("wlne_secretary")
    worker = worker_in(WLNE)
    household = Pairing.objects.filter(worker=worker, end_date__isnull=True).order_by("pk").first().household
    with pytest.raises(ActionError) as e:
        actions.record_visit(household=household, worker=worker, date=worker.start_date - datetime.timedelta(days=1),
                             by=user)
    assert e.value.field == "worker" and "不在任" in e.value.text
    with pytest.raises(ActionError) as e:
        actions.record_visit(household=household, worker=worker, latitude="91", longitude="100", by=user)
    assert e.value.field == "latitude"


# --------------------------------------------------------------------------- 未走访


def test_unvisited_list_holds_paired_households_not_visited_in_n_days(demo_user):
    user = demo_user("wlne_secretary")
    client = client_for(user)
    asof, days = datetime.date(2023, 6, 30), 60
    since = asof - datetime.timedelta(days=days)
    r = client.get("/grid/unvisited/", {"asof": asof.isoformat(), "days": days, "per_page": 1000})
    shown = {p.pk for p in r.context["table"].page.object_list.data}
    expected = set()
    for p in Pairing.objects.visible_to(user).current_on(asof):
        last = Visit.objects.filter(household=p.household_id, date__lte=asof).order_by("-date").first()
        if last is None or last.date < since:
            expected.add(p.pk)
    assert shown == expected and 0 < len(shown) < Pairing.objects.visible_to(user).current_on(asof).count()
    # a visit today takes a household off today's list (default 30 days)
    pairing = Pairing.objects.visible_to(user).filter(end_date__isnull=True).order_by("pk").first()

    def today_list():
        resp = client.get("/grid/unvisited/", {"per_page": 1000})
        return {p.pk for p in resp.context["table"].page.object_list.data}

    assert pairing.pk in today_list()
    actions.record_visit(household=pairing.household, worker=pairing.worker, by=user)
    assert pairing.pk not in today_list()


# --------------------------------------------------------------------------- figures


def test_demo_figures_as_of_the_reference_day(db):
    period = Period.asof(datetime.date(2023, 6, 30))
    town = region(TOWN)
    values = {k: registry.get(k).value(town, period) for k in ("grid.workers", "grid.workers_party",
                                                               "grid.households_paired", "grid.visits")}
    assert values["grid.workers"] == 470 and values["grid.workers_party"] == 437
    assert values["grid.households_paired"] == 3387 and values["grid.visits"] > 0
    for key, value in values.items():
        assert registry.get(key).records(town, period).count() >= value
    # every grid has a worker, and workers serve grids of their own village only
    grids = Region.objects.filter(kind="grid", path__startswith=town.path)
    assert grids.count() == 141
    assert not grids.exclude(grid_workers__isnull=False).exists()
    for w in GridWorker.objects.prefetch_related("grids").select_related("grid", "person__household"):
        assert {g.parent_id for g in w.grids.all()} == {w.grid.parent_id} == {w.person.household.village_id}
    in_2022 = registry.get("grid.visits").value(town, Period.parse("2022"))
    assert 0 < in_2022 < values["grid.visits"]
    for code in (WLNE, NLXL):  # the scope matrix needs rows of every model in both villages
        for model in (GridWorker, Visit):
            assert model.objects.filter(region_path__startswith=region(code).path).exists()
        assert Pairing.objects.filter(household__region_path__startswith=region(code).path).exists()


def test_metrics_cli_gives_the_articles_figures(db, capsys):
    from django.core.management import call_command

    call_command("metrics", "--region", TOWN, "--asof", "2023-06-30", "--format", "json")
    figures = json.loads(capsys.readouterr().out)
    assert (figures["grid.workers"], figures["grid.workers_party"], figures["grid.households_paired"]) == (470, 437,
                                                                                                          3387)


# --------------------------------------------------------------------------- Excel


def export(user, key):
    r = client_for(user).get(f"/exchange/export/{key}/", {"full": "1"})
    assert r.status_code == 200, r.status_code
    return r.content


def test_grid_workers_sheet_round_trip(demo_user):
    user = demo_user("wlne_secretary")
    data = export(user, "grid_workers")
    rows = read_rows(data, "网格员")
    n = GridWorker.objects.visible_to(user).count()
    assert rows[0][:3] == ["身份证号码", "姓名", "主网格代码"] and len(rows) == n + 1
    before = grid_rows()
    job = run("grid_workers", data, by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    assert job.counts == {"new": 0, "changed": 0, "unchanged": n, "rejected": 0}
    assert grid_rows() == before


def test_pairings_sheet_round_trip_and_a_change(demo_user):
    from openpyxl import load_workbook

    from exchange_kit import save

    user = demo_user("wlne_secretary")
    data = export(user, "pairings")
    n = Pairing.objects.visible_to(user).filter(end_date__isnull=True).count()
    before = grid_rows()
    job = run("pairings", data, by=user)
    assert job.status == "committed", (job.file_error, job.issues)
    assert job.counts == {"new": 0, "changed": 0, "unchanged": n, "rejected": 0}
    assert grid_rows() == before
    # one row moved to another worker of the village: changed, the old pairing kept as history
    wb = load_workbook(io.BytesIO(data))
    ws = wb["包户结对"]
    number = ws.cell(row=2, column=1).value
    current = Pairing.objects.get(household__number=number, end_date__isnull=True)
    other = (GridWorker.objects.filter(grids__parent__code=WLNE, end_date__isnull=True).exclude(pk=current.worker_id)
             .order_by("pk").first())
    ws.cell(row=2, column=2).value = other.person.id_number_plain()
    ws.cell(row=2, column=3).value = other.person.name
    ws.cell(row=2, column=4).value = TODAY.isoformat()
    job = run("pairings", save(wb), by=user)
    assert job.counts == {"new": 0, "changed": 1, "unchanged": n - 1, "rejected": 0}, job.issues
    assert Pairing.objects.get(household__number=number, end_date__isnull=True).worker == other
    assert Pairing.objects.get(pk=current.pk).end_date == TODAY


def test_pairing_rows_of_another_village_are_rejected(demo_user):
    from exchange_kit import xlsx

    user = demo_user("wlne_secretary")
    theirs = Household.objects.filter(village__code=NLXL).order_by("pk").first()
    worker = worker_in(WLNE)
    data = xlsx([[theirs.number, worker.person.id_number_plain(), "", ""]],
                headers=["户号", "网格员身份证号码", "网格员姓名", "结对日期"], title="包户结对")
    before = grid_rows()
    job = run("pairings", data, by=user)
    assert job.status == "rejected"
    assert job.issues[0]["column"] == "户号" and "管辖范围" in job.issues[0]["reason"]
    assert grid_rows() == before


# --------------------------------------------------------------------------- 转为诉求


def test_a_visit_finding_becomes_a_case_in_one_step(demo_user):
    from yiwang.cases.models import Case, Category

    user = demo_user("wlne_grid1")
    client = client_for(user)
    worker = GridWorker.objects.get(user=user)
    household = Pairing.objects.filter(worker=worker, end_date__isnull=True).order_by("pk").first().household
    client.post(f"/grid/households/{household.pk}/visit/", {
        "date": TODAY.isoformat(), "kind": "routine", "findings": "院墙开裂，有倒塌危险", "latitude": "39.18",
        "longitude": "109.56", "photo": upload("wall.png", png_bytes(), "image/png")})
    visit = Visit.objects.filter(household=household).order_by("-pk").first()
    page = client.get(f"/grid/visits/{visit.pk}/").content.decode()
    assert f"/grid/visits/{visit.pk}/case/" in page and "转为诉求" in page
    category = Category.objects.filter(active=True).order_by("pk").first()
    r = client.post(f"/grid/visits/{visit.pk}/case/", {"category": category.pk, "description": visit.findings})
    assert r.status_code == 302
    visit.refresh_from_db()
    case = Case.objects.get(pk=visit.case_id)
    assert (case.channel, case.household_id, case.description, case.category_id) == (
        "grid", household.pk, visit.findings, category.pk)
    assert visit.findings.startswith("院墙开裂")
    assert case.region_path == household.region_path and case.latitude is not None
    assert case.attachments.count() == 1
    with pytest.raises(ActionError) as e:  # one case per visit
        actions.visit_to_case(visit, category=category, by=user)
    assert "已转为诉求" in e.value.text
    assert Case.objects.filter(pk=case.pk).count() == 1
