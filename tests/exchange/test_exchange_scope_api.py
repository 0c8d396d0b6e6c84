"""Scope, audit, the API and the CLI of imports.

- a village cadre's rows of another village are rejected with the reason (also a 户号 registered in
  another village); the other village's import jobs — list, detail, progress, file, error workbook,
  confirm, in pages and API — answer 404;
- each import is audited with the file's hash and size (upload) and its counts (check, commit); the kept
  file is downloaded again, byte for byte, by those in scope who may see full ID numbers (and audited);
  those in scope without that right see the job but get 403 for its file;
- API: POST /api/imports/ (multipart) → 202 with the preview; GET shows counts and issues; POST commit;
  a bad sheet or region is a 400 in Chinese; confirming twice is refused;
- CLI: ``yiwang import`` prints the counts and each rejected cell (row, column, value, reason), exits 1
  on a rejected file, and writes only with --commit.
"""
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from exchange_kit import (
    NLXL, TOWN, WLNE, household_rows, issues_of, last_audit_pk, read_rows, registry, run, xlsx,
)

from yiwang.core.models import AuditEntry
from yiwang.exchange.models import ImportJob
from yiwang.people.models import Household, Person


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client, data, *, sheet="households", region=WLNE, name="台账.xlsx", partial=False):
    return client.post("/api/imports/", {"sheet": sheet, "region": region, "partial": partial,
                                         "file": SimpleUploadedFile(name, data)})


# --------------------------------------------------------------------------- scope of rows


def test_rows_of_another_village_are_rejected_with_the_reason(demo_user):
    user = demo_user("wlne_secretary")
    rows = household_rows("MINE", 1) + household_rows("THEIRS", 1, village=NLXL, grid="")
    before = registry()
    job = run("households", xlsx(rows), by=user)
    assert job.status == "rejected"
    assert issues_of(job) == {(4, "嘎查村代码"): "嘎查村代码不存在或不在您的管辖范围内",
                              (5, "嘎查村代码"): "嘎查村代码不存在或不在您的管辖范围内"}
    assert registry() == before


def test_a_household_number_of_another_village_is_not_taken_over(demo_user):
    user = demo_user("wlne_secretary")
    theirs = Household.objects.filter(village__code=NLXL).order_by("pk").first()
    rows = household_rows("X", 1)
    for r in rows:
        r["number"] = theirs.number
    before = registry()
    job = run("households", xlsx(rows), by=user)
    assert issues_of(job) == {(2, "户号"): "该户号已登记在您管辖范围以外的地区",
                              (3, "户号"): "该户号已登记在您管辖范围以外的地区"}
    assert registry() == before


def test_a_grid_worker_imports_only_into_their_grid(demo_user):
    """The grid worker may upload for nothing but their grid: the village is outside their write scope."""
    from yiwang.core.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        run("households", xlsx(household_rows("GW", 1)), by=demo_user("wlne_grid1"))


# --------------------------------------------------------------------------- jobs of another village


def test_jobs_of_another_village_are_404_everywhere(demo_user):
    wlne, nlxl = demo_user("wlne_secretary"), demo_user("nlxl_secretary")
    job = run("households", xlsx(household_rows("SCOPEJOB", 1)), by=wlne, partial=True, commit=False)
    client = client_for(nlxl)
    for url in (f"/exchange/jobs/{job.pk}/", f"/exchange/jobs/{job.pk}/progress/", f"/exchange/jobs/{job.pk}/file/",
                f"/exchange/jobs/{job.pk}/errors/", f"/api/imports/{job.pk}/", f"/api/imports/{job.pk}/errors/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/exchange/jobs/{job.pk}/commit/", f"/api/imports/{job.pk}/commit/"):
        assert client.post(url).status_code == 404, url
    job.refresh_from_db()
    assert job.status == "checked"  # not confirmed by the other village
    listed = client.get("/api/imports/").json()
    assert job.pk not in {j["id"] for j in listed["results"]}
    assert all(j["region"] == NLXL for j in listed["results"])
    page = client.get("/exchange/").content.decode()
    assert f"/exchange/jobs/{job.pk}/" not in page and "SCOPEJOB" not in page
    assert ImportJob.objects.visible_to(nlxl).filter(pk=job.pk).count() == 0
    # the own village and the town see it
    for user in (wlne, demo_user("town_admin")):
        assert client_for(user).get(f"/exchange/jobs/{job.pk}/").status_code == 200


# --------------------------------------------------------------------------- audit, the kept file


def test_each_import_is_audited_with_its_file_and_can_be_downloaded_again(demo_user):
    user = demo_user("wlne_secretary")
    data = xlsx(household_rows("AUDITED", 2))
    digest = hashlib.sha256(data).hexdigest()
    since = last_audit_pk()
    job = run("households", data, by=user, name="乌兰淖尔台账.xlsx")
    assert (job.sha256, job.size, job.original_name, job.created_by_id) == (digest, len(data), "乌兰淖尔台账.xlsx", user.pk)
    entries = {e.action: e for e in AuditEntry.objects.filter(pk__gt=since, action__startswith="exchange.")}
    assert entries["exchange.upload"].changes == {"sheet": [None, "households"], "sha256": [None, digest],
                                                  "size": [None, len(data)], "name": [None, "乌兰淖尔台账.xlsx"]}
    for action in ("exchange.check", "exchange.commit"):
        e = entries[action]
        assert e.actor_id == user.pk and e.object_id == str(job.pk) and e.region_path.endswith(f"/{WLNE}/")
        assert e.changes["sha256"] == [None, digest] and e.changes["rows"] == [None, 4]
    assert entries["exchange.commit"].changes["counts"][1]["new"] == 4

    # downloaded again, byte for byte, by the cadre and by town staff — each download audited
    for who in ("wlne_secretary", "town_admin"):
        since = last_audit_pk()
        r = client_for(demo_user(who)).get(f"/exchange/jobs/{job.pk}/file/")
        assert r.status_code == 200 and r.content == data, who
        assert "attachment" in r["Content-Disposition"]
        got = AuditEntry.objects.get(pk__gt=since, action="exchange.download_file")
        assert got.actor_id == demo_user(who).pk and got.object_id == str(job.pk)

    # the banner viewer sees the job, but not the full ID numbers in its file
    viewer = client_for(demo_user("banner_viewer"))
    assert viewer.get(f"/exchange/jobs/{job.pk}/").status_code == 200
    since = last_audit_pk()
    for url in (f"/exchange/jobs/{job.pk}/file/", f"/exchange/jobs/{job.pk}/errors/",
                f"/api/imports/{job.pk}/errors/"):
        r = viewer.get(url)
        assert r.status_code == 403, url
        assert job.sha256 not in r.content.decode(errors="ignore")
    assert AuditEntry.objects.filter(pk__gt=since, allowed=False).count() == 3


def test_the_system_administrator_sees_region_imports_but_no_household_ledger(demo_user):
    admin = demo_user("sysadmin")
    region_job = run("regions", xlsx([[f"{WLNE}66", "管理员网格", "网格", WLNE]], ["区划代码", "名称", "层级", "上级代码"],
                                     title="区划与网格"), by=admin, region=TOWN)
    assert region_job.status == "committed", region_job.issues
    household_job = run("households", xlsx(household_rows("ADMINSEE", 1)), by=demo_user("town_admin"), region=TOWN)
    client = client_for(admin)
    assert client.get(f"/exchange/jobs/{region_job.pk}/").status_code == 200
    assert client.get(f"/exchange/jobs/{region_job.pk}/file/").status_code == 200  # no personal data in it
    assert client.get(f"/exchange/jobs/{household_job.pk}/").status_code == 404
    assert not ImportJob.objects.visible_to(admin).filter(sheet="households").exists()


# --------------------------------------------------------------------------- the API


def test_api_upload_preview_and_commit(demo_user):
    user = demo_user("wlne_secretary")
    client = client_for(user)
    rows = household_rows("API", 2)
    r = upload(client, xlsx(rows))
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "checked" and body["counts"] == {"new": 4, "changed": 0, "unchanged": 0, "rejected": 0}
    assert body["region"] == WLNE and body["sheet"] == "households" and body["issue_count"] == 0
    assert not Household.objects.filter(number__startswith="API").exists()  # a preview writes nothing
    job_id = body["id"]
    got = client.get(f"/api/imports/{job_id}/").json()
    assert got["status"] == "checked" and got["total_rows"] == 4 and got["issues"] == []
    r = client.post(f"/api/imports/{job_id}/commit/")
    assert r.status_code == 202 and r.json()["status"] == "committed"
    assert Person.objects.filter(household__number__startswith="API").count() == 4
    r = client.post(f"/api/imports/{job_id}/commit/")
    assert r.status_code == 400 and "已导入" in r.json()["detail"]
    assert Person.objects.filter(household__number__startswith="API").count() == 4


def test_api_shows_each_rejected_cell(demo_user):
    client = client_for(demo_user("wlne_secretary"))
    rows = household_rows("APIBAD", 1)
    rows[1]["relation"] = "表亲"
    body = upload(client, xlsx(rows)).json()
    assert body["status"] == "rejected" and body["counts"]["rejected"] == 1
    assert body["issues"] == [{"row": 3, "column": "与户主关系", "value": "表亲",
                               "reason": "“表亲”不是可选值；可选：户主、配偶、子女、父母、孙子女、兄弟姐妹、其他"}]
    r = client.post(f"/api/imports/{body['id']}/commit/")
    assert r.status_code == 400 and "有错误，未导入" in r.json()["detail"]


def test_rejected_id_numbers_and_phones_are_masked_for_those_without_pii_reveal(demo_user):
    rows = household_rows("APIMASK", 1)
    bad_id = rows[1]["id_number"][:-1] + ("0" if rows[1]["id_number"][-1] != "0" else "1")
    rows[1]["id_number"], rows[0]["phone"] = bad_id, "1380013800"
    body = upload(client_for(demo_user("wlne_secretary")), xlsx(rows)).json()
    assert {i["value"] for i in body["issues"]} == {bad_id, "1380013800"}  # the cadre holds pii.reveal
    for who in ("banner_viewer", "town_leader"):
        client = client_for(demo_user(who))
        for url in (f"/api/imports/{body['id']}/", f"/exchange/jobs/{body['id']}/"):
            text = client.get(url).content.decode()
            assert bad_id not in text and "1380013800" not in text, (who, url)
            assert f"{bad_id[:6]}********{bad_id[-4:]}" in text, (who, url)


def test_api_refuses_a_commit_by_someone_who_only_views(demo_user):
    job = run("households", xlsx(household_rows("APIVIEW", 1)), by=demo_user("wlne_secretary"), commit=False)
    since = last_audit_pk()
    r = client_for(demo_user("banner_viewer")).post(f"/api/imports/{job.pk}/commit/")
    assert r.status_code == 403
    job.refresh_from_db()
    assert job.status == "checked"
    assert AuditEntry.objects.filter(pk__gt=since, action="exchange.commit", allowed=False).count() == 1


@pytest.mark.parametrize("form,reason", [
    ({"sheet": "nosuch", "region": WLNE}, "未知的表格“nosuch”"),
    ({"sheet": "households", "region": NLXL}, "不存在或不在您的管辖范围内"),
])
def test_api_bad_sheet_or_region(demo_user, form, reason):
    client = client_for(demo_user("wlne_secretary"))
    r = client.post("/api/imports/", {**form, "file": SimpleUploadedFile("a.xlsx", xlsx([]))})
    assert r.status_code == 400 and reason in r.json()["detail"], r.content


def test_api_error_workbook_of_a_partial_import(demo_user):
    client = client_for(demo_user("wlne_secretary"))
    rows = household_rows("APIPART", 2)
    rows[0]["phone"] = "1"
    body = upload(client, xlsx(rows), partial=True).json()
    assert body["status"] == "checked" and body["counts"]["rejected"] == 2 and body["counts"]["new"] == 2
    r = client.get(f"/api/imports/{body['id']}/errors/")
    got = read_rows(r.content)
    assert [g[0] for g in got[1:]] == [2, 3] and got[0][-1] == "错误原因"


# --------------------------------------------------------------------------- the CLI


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except SystemExit as e:
        code = e.code
    return code, out.getvalue()


def test_cli_prints_counts_and_each_rejected_cell(demo_user, tmp_path):
    rows = household_rows("CLI", 2)
    rows[1]["id_number"] = rows[1]["id_number"][:-1] + ("0" if rows[1]["id_number"][-1] != "0" else "1")
    rows[2]["political_status"] = "无党派"
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx(rows))
    before = registry()
    code, out = cli("households", str(path), "--region", WLNE, "--user", "wlne_secretary", "--commit")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("有错误，未导入：共 4 行；新增 0，修改 0，未变 0，错误 2")
    assert f"  第 3 行 [身份证号码] “{rows[1]['id_number']}”：身份证号码校验位错误" in out
    assert "  第 4 行 [政治面貌] “无党派”：“无党派”不是可选值；可选：中共党员、中共预备党员、共青团员、群众" in out
    assert registry() == before


def test_cli_checks_without_commit_and_writes_with_it(demo_user, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx(household_rows("CLIOK", 2)))
    code, out = cli("households", str(path), "--region", WLNE)
    assert code == 0 and out.startswith("已预览，待确认：共 4 行；新增 4，修改 0，未变 0，错误 0")
    assert not Household.objects.filter(number__startswith="CLIOK").exists()
    code, out = cli("households", str(path), "--region", WLNE, "--commit")
    assert code == 0 and "已导入：共 4 行；新增 4" in out
    assert Household.objects.filter(number__startswith="CLIOK").count() == 2
    code, out = cli("households", str(path), "--region", WLNE, "--commit")
    assert "已导入：共 4 行；新增 0，修改 0，未变 4，错误 0" in out


def test_cli_refuses_a_user_outside_the_region(demo_user, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "台账.xlsx"
    path.write_bytes(xlsx(household_rows("CLINO", 1)))
    with pytest.raises(CommandError, match="不存在或不在您的管辖范围内"):
        call_command("import", "households", str(path), "--region", NLXL, "--user", "wlne_secretary")
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import", "households", str(tmp_path / "none.xlsx"))
