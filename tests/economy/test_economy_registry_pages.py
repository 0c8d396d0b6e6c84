"""The economy registry pages on the demo town: projects, pooled projects and their dividends, pairings and
enterprises render for the town and for a village secretary; records are created through the pages (and
so through ``economy.actions``); a dividend preview writes nothing and its parts add up to the payout;
propose → approve posts every participant's part into its ledger as 投资收益 → reverse nets them to zero;
a secretary may not approve; a second run for the same year, a negative capital and shares beyond the
pool's total are refused in Chinese and write nothing; another village's records answer 404 and a
village sees only its own part of a record that lies under several places.

The records each test needs are made here with ``economy.actions`` (``by=None``) so the tests do not
depend on what the demo's economy step holds; each test's writes are rolled back."""
import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client

from yiwang.areas.models import Region
from yiwang.core.models import AuditEntry
from yiwang.economy import actions
from yiwang.economy.models import (
    DividendAllocation, DividendRun, Enterprise, IncomeCategory, IncomeEntry, JointMeeting, Partnership,
    PartnershipYear, PooledProject, PoolShare, Project, ProjectParty, VillagePairing,
)

TOWN, WLNE, NLXL = "150627105", "150627105215", "150627105214"
YEAR = 2022
# a valid 统一社会信用代码 (GB 32100 check digit) and the same with its check character changed
GOOD_USCC, BAD_USCC = "91150627MA0N2B4U75", "91150627MA0N2B4U76"


def region(code):
    return Region.objects.get(code=code)


def third_village():
    """A village of the demo town that is neither of the two scope-test villages."""
    return (Region.objects.filter(parent__code=TOWN, kind=Region.Kind.VILLAGE).exclude(code__in=[WLNE, NLXL])
            .order_by("code").first())


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def text(response):
    return response.content.decode()


def make_project(code, village_code, name="乌驴养殖基地（测试）"):
    return actions.create_project(village=region(village_code), code=code, name=name, kind="breeding",
                                  start_date=datetime.date(2021, 3, 1), product="乌驴", is_base=True, by=None)


def make_pool(code="T-POOL-1", shares=((WLNE, "300000.00"),), total=None, host=WLNE, **extra):
    total = total or sum((Decimal(c) for _, c in shares), Decimal(0))
    pool = actions.create_pool(code=code, name=f"飞地抱团测试{code}", host=region(host),
                               start_date=datetime.date(2021, 1, 1), total_capital=total, by=None, **extra)
    for village_code, capital in shares:
        actions.add_pool_share(pool, village=region(village_code), capital=capital,
                               joined_on=datetime.date(2021, 1, 1), by=None)
    return pool


def counts():
    return (DividendRun.objects.count(), DividendAllocation.objects.count(), IncomeEntry.objects.count(),
            PoolShare.objects.count(), AuditEntry.objects.count())


# --------------------------------------------------------------------------- pages render


def test_pages_render_for_the_town_and_a_village_secretary(demo_user):
    project = make_project("T-REG-P1", WLNE)
    actions.add_project_party(project, role="insurer", name="测试保险公司", amount="12000.50", insured_heads=320,
                              by=None)
    entry = actions.record_income(village=region(WLNE), project=project, month=datetime.date(2022, 5, 1),
                                  category="operating", amount="8800.25", by=None)
    pool = make_pool(project=project)
    run = actions.propose_dividend_run(pool, year=YEAR, distributable="30000.00", by=None)
    pairing = actions.create_pairing(weak=region(WLNE), strong_name="外镇测试村", measures="产业帮带",
                                     start_date=datetime.date(2022, 1, 1), by=None)
    enterprise = actions.create_enterprise(name="测试食品加工有限公司", town=region(TOWN), industry="食品加工", by=None)
    partnership = actions.add_partnership(enterprise, village=region(WLNE), start_date=datetime.date(2022, 1, 1),
                                          by=None)
    actions.record_partnership_year(partnership, year=YEAR, produce_sales="150000.00", jobs=12,
                                    collective_income="30000.00", by=None)

    pages = {
        "/economy/projects/": [project.name], f"/economy/projects/{project.pk}/": ["测试保险公司", "320", "8,800.25"],
        "/economy/pools/": [pool.name], f"/economy/pools/{pool.pk}/": ["300,000.00", "100.00%"],
        f"/economy/runs/{run.pk}/": ["30,000.00", "待审批"], "/economy/pairings/": ["外镇测试村"],
        f"/economy/pairings/{pairing.pk}/": ["产业帮带"], "/economy/enterprises/": [enterprise.name],
        f"/economy/enterprises/{enterprise.pk}/": ["150,000.00", "乌兰淖尔"],
    }
    forms = ["/economy/projects/new/", f"/economy/projects/{project.pk}/edit/",
             f"/economy/projects/{project.pk}/parties/new/", "/economy/pools/new/",
             f"/economy/pools/{pool.pk}/shares/new/", f"/economy/pools/{pool.pk}/dividend/",
             f"/economy/runs/{run.pk}/approve/", f"/economy/runs/{run.pk}/reverse/", "/economy/pairings/new/",
             "/economy/enterprises/new/", f"/economy/enterprises/{enterprise.pk}/partners/new/",
             f"/economy/partnerships/{partnership.pk}/year/", "/economy/meetings/new/"]
    for username in ("town_admin", "wlne_secretary"):
        client = client_for(demo_user(username))
        for url, expected in pages.items():
            r = client.get(url)
            assert r.status_code == 200, (username, url, r.status_code)
            for s in expected:
                assert s in text(r), (username, url, s)
        for url in forms:
            assert client.get(url).status_code == 200, (username, url)
    # the project page lists the entry of its project, linked to the ledger's entry page when there is one
    r = client_for(demo_user("town_admin")).get(f"/economy/projects/{project.pk}/")
    assert r.context["income_total"] == Decimal("8800.25") and list(r.context["entries"]) == [entry]


def test_project_list_filters_and_offers_the_excel_buttons_when_the_sheet_exists(demo_user):
    make_project("T-REG-F1", WLNE, name="过滤测试甲")
    make_project("T-REG-F2", WLNE, name="过滤测试乙")
    client = client_for(demo_user("town_admin"))
    r = client.get("/economy/projects/", {"q": "过滤测试甲"})
    assert r.status_code == 200
    assert [p.code for p in r.context["table"].data] == ["T-REG-F1"]
    from yiwang.exchange.sheets import _sheets

    assert (r.context["exchange"] is not None) == ("projects" in _sheets)


# --------------------------------------------------------------------------- creating through the pages


def test_create_project_party_pool_share_pairing_through_the_pages(demo_user):
    client = client_for(demo_user("town_admin"))
    r = client.post("/economy/projects/new/", {
        "code": "T-REG-NEW", "name": "乌驴繁育扩建", "village": WLNE, "kind": "breeding", "status": "operating",
        "start_date": "2023-03-01", "product": "乌驴", "is_base": "on"})
    project = Project.objects.get(code="T-REG-NEW")
    assert r.status_code == 302 and r["Location"] == project.get_absolute_url()
    assert project.village.code == WLNE and project.is_base and project.start_date == datetime.date(2023, 3, 1)

    r = client.post(f"/economy/projects/{project.pk}/edit/", {
        "name": "乌驴繁育扩建二期", "kind": "breeding", "status": "planned", "start_date": "2023-03-01"})
    assert r.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.status) == ("乌驴繁育扩建二期", "planned")

    r = client.post(f"/economy/projects/{project.pk}/parties/new/",
                    {"role": "insurer", "name": "人保财险", "amount": "5000", "insured_heads": "150"})
    assert r.status_code == 302
    party = ProjectParty.objects.get(project=project)
    assert (party.role, party.amount, party.insured_heads) == ("insurer", Decimal("5000.00"), 150)
    r = client.post(f"/economy/projects/{project.pk}/parties/new/",
                    {"role": "bank", "name": "农商行", "insured_heads": "10"})
    assert r.status_code == 200 and "只有保险公司填写参保头数" in text(r)
    assert ProjectParty.objects.filter(project=project).count() == 1

    r = client.post("/economy/pools/new/", {
        "code": "T-REG-POOL", "name": "抱团养殖", "host": WLNE, "project": project.pk, "start_date": "2021-01-01",
        "total_capital": "500000", "guaranteed_rate": "5", "retained_percent": "10"})
    pool = PooledProject.objects.get(code="T-REG-POOL")
    assert r.status_code == 302 and r["Location"] == pool.get_absolute_url()
    assert (pool.total_capital, pool.guaranteed_rate, pool.retained_percent) == (
        Decimal("500000.00"), Decimal("5.00"), Decimal("10.00"))

    other = third_village()
    for code, capital in ((WLNE, "200000"), (other.code, "300000")):
        r = client.post(f"/economy/pools/{pool.pk}/shares/new/",
                        {"village": code, "capital": capital, "joined_on": "2021-01-01"})
        assert r.status_code == 302, text(r)
    assert sorted(pool.shares.values_list("capital", flat=True)) == [Decimal("200000.00"), Decimal("300000.00")]
    r = client.get(f"/economy/pools/{pool.pk}/")
    assert [s.percent for s in r.context["shares"]] == sorted([Decimal("40.00"), Decimal("60.00")],
                                                              key=lambda p: p if other.code > WLNE else -p)

    r = client.post("/economy/pairings/new/", {
        "weak": WLNE, "strong": other.code, "measures": "派驻产业指导员，共建养殖合作社", "start_date": "2022-03-01"})
    pairing = VillagePairing.objects.get(weak__code=WLNE, strong=other)
    assert r.status_code == 302 and r["Location"] == pairing.get_absolute_url()
    r = client.post("/economy/pairings/new/", {"weak": WLNE, "strong_name": "某某镇某某村", "measures": "资金帮扶",
                                               "start_date": "2022-03-01"})
    assert r.status_code == 302
    assert VillagePairing.objects.get(weak__code=WLNE, strong_name="某某镇某某村").is_cross_town
    r = client.post("/economy/pairings/new/", {"weak": WLNE, "measures": "无帮带村", "start_date": "2022-03-01"})
    assert r.status_code == 200 and "请选择帮带村，或填写外镇帮带村的名称" in text(r)


def test_create_enterprise_partnership_year_and_meeting_through_the_pages(demo_user):
    client = client_for(demo_user("town_admin"))
    before = Enterprise.objects.count()
    r = client.post("/economy/enterprises/new/", {"name": "蒙泰测试集团", "town": TOWN, "credit_code": BAD_USCC})
    assert r.status_code == 200
    assert "统一社会信用代码" in r.context["form"].errors["credit_code"][0]
    assert "无效" in r.context["form"].errors["credit_code"][0]
    assert Enterprise.objects.count() == before

    r = client.post("/economy/enterprises/new/", {"name": "蒙泰测试集团", "town": TOWN, "credit_code": GOOD_USCC,
                                                  "industry": "食品加工"})
    enterprise = Enterprise.objects.get(name="蒙泰测试集团")
    assert r.status_code == 302 and r["Location"] == enterprise.get_absolute_url()
    assert enterprise.credit_code == GOOD_USCC

    r = client.post(f"/economy/enterprises/{enterprise.pk}/partners/new/",
                    {"village": WLNE, "start_date": "2022-01-01", "investment": "1000000"})
    assert r.status_code == 302
    partnership = Partnership.objects.get(enterprise=enterprise)
    assert partnership.investment == Decimal("1000000.00")

    r = client.post(f"/economy/partnerships/{partnership.pk}/year/",
                    {"year": "2022", "produce_sales": "10000000", "jobs": "500", "collective_income": "520000"})
    assert r.status_code == 302 and r["Location"] == enterprise.get_absolute_url()
    row = PartnershipYear.objects.get(partnership=partnership, year=2022)
    assert (row.produce_sales, row.jobs, row.collective_income) == (
        Decimal("10000000.00"), 500, Decimal("520000.00"))
    r = client.post(f"/economy/partnerships/{partnership.pk}/year/", {"year": "2022", "jobs": "-3"})
    assert r.status_code == 200 and "就业人次不能为负" in text(r)

    r = client.get("/economy/enterprises/", {"q": "蒙泰测试"})
    (listed,) = list(r.context["table"].data)
    assert (listed.partner_count, listed.produce_total, listed.jobs_total, listed.income_total) == (
        1, Decimal("10000000.00"), 500, Decimal("520000.00"))

    r = client.post("/economy/meetings/new/", {"town": TOWN, "date": "2023-04-10", "title": "万企兴万村联席会议",
                                               "enterprises": [enterprise.pk], "villages": [WLNE]})
    assert r.status_code == 302 and r["Location"] == enterprise.get_absolute_url()
    meeting = JointMeeting.objects.get(title="万企兴万村联席会议", date=datetime.date(2023, 4, 10))
    assert list(meeting.villages.values_list("code", flat=True)) == [WLNE]
    assert "万企兴万村联席会议" in text(client.get(enterprise.get_absolute_url()))


# --------------------------------------------------------------------------- pooled projects and dividends


def three_village_pool(**extra):
    other = third_village()
    # capitals that do not divide the payout evenly, so the largest-remainder cents are exercised
    return make_pool(code="T-DIV-1", shares=((WLNE, "100000.00"), (other.code, "100000.00"), (NLXL, "133333.33")),
                     **extra)


def test_dividend_preview_writes_nothing_and_its_parts_sum_to_the_payout(demo_user):
    pool = three_village_pool(retained_percent="7.5", guaranteed_rate="3")
    client = client_for(demo_user("town_admin"))
    before = counts()
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "100000.01",
                                                            "preview": "1"})
    assert r.status_code == 200
    assert counts() == before
    preview = r.context["preview"]
    result = preview["result"]
    assert result.retained == Decimal("7500.00")  # 7.5% of 100,000.01 rounded down to the cent
    assert result.payout == result.distributable - result.retained + result.guarantee_topup
    amounts = [row["amount"] for row in preview["rows"]]
    assert sum(amounts) == result.payout == preview["parts_sum"]
    assert len(amounts) == 3 and all(abs(row["amount"] - row["exact"]) < Decimal("0.01") for row in preview["rows"])
    assert "分配预览" in text(r) and "各村分配合计等于分配总额" in text(r)

    # a low profit: the guarantee (3% of the capital) is topped up, and the parts still add up exactly
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "1000.00",
                                                            "preview": "1"})
    result = r.context["preview"]["result"]
    assert result.guarantee_topup > 0
    assert result.payout == (Decimal("333333.33") * 3 / 100).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
    assert sum(row["amount"] for row in r.context["preview"]["rows"]) == result.payout
    assert counts() == before

    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "-5", "preview": "1"})
    assert r.status_code == 200 and "可分配收益" in text(r) and counts() == before


def test_propose_approve_posts_each_part_and_reverse_nets_it_to_zero(demo_user):
    pool = three_village_pool()
    client = client_for(demo_user("town_admin"))
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "180000.00",
                                                            "propose": "1"})
    run = DividendRun.objects.get(pool=pool, year=YEAR)
    assert r.status_code == 302 and r["Location"] == run.get_absolute_url()
    assert run.status == DividendRun.Status.DRAFT and run.post_month == datetime.date(YEAR, 12, 1)
    assert not IncomeEntry.objects.filter(source_document=f"分红-{run.pk}").exists()

    r = client.post(f"/economy/runs/{run.pk}/approve/")
    assert r.status_code == 302 and r["Location"] == run.get_absolute_url()
    run.refresh_from_db()
    assert run.status == DividendRun.Status.POSTED and run.approved_by.username == "town_admin"
    allocations = list(run.allocations.select_related("entry"))
    assert len(allocations) == 3 and sum(a.amount for a in allocations) == run.payout == Decimal("180000.00")
    for a in allocations:
        e = a.entry
        assert (e.village_id, e.category, e.amount, e.month) == (
            a.village_id, IncomeCategory.INVESTMENT, a.amount, run.post_month)
    page = client.get(run.get_absolute_url())
    assert page.context["allocations_total"] == run.payout and "已入账" in text(page)

    r = client.post(f"/economy/runs/{run.pk}/reverse/", {"reason": ""})
    assert r.status_code == 200 and "冲销原因不能为空" in text(r)
    r = client.post(f"/economy/runs/{run.pk}/reverse/", {"reason": "可分配收益核算有误"})
    reversing = DividendRun.objects.get(reverses=run)
    assert r.status_code == 302 and r["Location"] == reversing.get_absolute_url()
    run.refresh_from_db()
    assert run.status == DividendRun.Status.REVERSED and reversing.payout == -run.payout
    for a in allocations:
        net = IncomeEntry.objects.filter(village_id=a.village_id, source_document=f"分红-{run.pk}").aggregate(
            s=Sum("amount"))["s"]
        assert net == 0
    # the year is free again: a corrected run can be proposed
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "170000.00",
                                                            "propose": "1"})
    assert r.status_code == 302
    assert actions.effective_runs(pool, YEAR).get().payout == Decimal("170000.00")


def test_a_draft_is_withdrawn_and_a_secretary_may_not_approve(demo_user):
    pool = make_pool(code="T-DIV-W", shares=((WLNE, "50000.00"),))
    run = actions.propose_dividend_run(pool, year=YEAR, distributable="5000.00", by=None)
    secretary = client_for(demo_user("wlne_secretary"))
    page = secretary.get(run.get_absolute_url())
    assert page.status_code == 200 and page.context["may_approve"] is False
    before = counts()
    r = secretary.post(f"/economy/runs/{run.pk}/approve/")
    assert r.status_code == 403
    run.refresh_from_db()
    assert run.status == DividendRun.Status.DRAFT
    assert counts()[:4] == before[:4]  # only the refusal is audited
    assert AuditEntry.objects.filter(action="economy.approve_dividend_run", allowed=False).exists()
    assert secretary.post(f"/economy/runs/{run.pk}/reverse/", {"reason": "撤回"}).status_code == 403

    r = client_for(demo_user("town_admin")).post(f"/economy/runs/{run.pk}/reverse/", {"reason": "金额填错"})
    run.refresh_from_db()
    assert r.status_code == 302 and run.status == DividendRun.Status.WITHDRAWN
    assert not IncomeEntry.objects.filter(source_document=f"分红-{run.pk}").exists()


def test_a_second_dividend_for_the_same_year_is_refused_in_chinese(demo_user):
    pool = make_pool(code="T-DIV-2", shares=((WLNE, "80000.00"),))
    actions.propose_dividend_run(pool, year=YEAR, distributable="8000.00", by=None)
    client = client_for(demo_user("town_admin"))
    before = counts()
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "9000.00",
                                                            "propose": "1"})
    assert r.status_code == 200
    assert f"{YEAR} 年度已分红" in r.context["form"].errors["year"][0]
    assert counts()[:4] == before[:4]
    # the preview says so too, before anyone submits
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "9000.00",
                                                            "preview": "1"})
    assert r.context["already"] is not None and "提交将被拒绝" in text(r)


def test_negative_capital_and_shares_beyond_the_total_are_refused_and_write_nothing(demo_user):
    pool = make_pool(code="T-SHARE", shares=((WLNE, "60000.00"),), total=Decimal("100000.00"))
    client = client_for(demo_user("town_admin"))
    other = third_village()
    before = counts()
    r = client.post(f"/economy/pools/{pool.pk}/shares/new/",
                    {"village": other.code, "capital": "-100", "joined_on": "2021-01-01"})
    assert r.status_code == 200 and r.context["form"].errors["capital"] == ["出资额必须大于零"]
    r = client.post(f"/economy/pools/{pool.pk}/shares/new/",
                    {"village": other.code, "capital": "40000.01", "joined_on": "2021-01-01"})
    assert r.status_code == 200 and "超过项目总出资额" in r.context["form"].errors["capital"][0]
    assert counts()[:4] == before[:4]
    assert not PoolShare.objects.filter(pool=pool, village=other).exists()
    # a pool whose shares do not cover its total cannot be previewed: it says what is missing
    r = client.post(f"/economy/pools/{pool.pk}/dividend/", {"year": YEAR, "distributable": "1000", "preview": "1"})
    assert "与项目总出资额" in text(r) and counts() == before


# --------------------------------------------------------------------------- scope


def test_a_secretary_gets_404_on_another_villages_records(demo_user):
    theirs = make_project("T-REG-NLXL", NLXL, name="纳林希里测试项目")
    pool = make_pool(code="T-POOL-NLXL", shares=((NLXL, "10000.00"),), host=NLXL)
    run = actions.propose_dividend_run(pool, year=YEAR, distributable="1000.00", by=None)
    pairing = actions.create_pairing(weak=region(NLXL), strong_name="外镇村", measures="帮带",
                                     start_date=datetime.date(2022, 1, 1), by=None)
    client = client_for(demo_user("wlne_secretary"))
    pages = (f"/economy/projects/{theirs.pk}/", f"/economy/pools/{pool.pk}/", f"/economy/runs/{run.pk}/",
             f"/economy/pairings/{pairing.pk}/")
    forms = (f"/economy/projects/{theirs.pk}/edit/", f"/economy/projects/{theirs.pk}/parties/new/",
             f"/economy/pools/{pool.pk}/dividend/", f"/economy/pools/{pool.pk}/shares/new/",
             f"/economy/runs/{run.pk}/approve/", f"/economy/runs/{run.pk}/reverse/")
    for url in pages + forms:
        assert client.get(url).status_code == 404, url
    for url in forms:
        assert client.post(url, {"name": "越权", "reason": "越权", "capital": "1", "year": YEAR,
                                 "distributable": "1", "propose": "1"}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.name == "纳林希里测试项目" and DividendRun.objects.get(pk=run.pk).status == DividendRun.Status.DRAFT
    listed = client.get("/economy/projects/")
    assert theirs not in listed.context["table"].data and "纳林希里" not in text(listed)
    # naming the other village in a form reads as "not a valid choice"
    r = client.post("/economy/projects/new/", {"code": "T-REG-X", "name": "越权", "village": NLXL, "kind": "breeding",
                                               "status": "operating", "start_date": "2023-01-01"})
    assert r.status_code == 200 and r.context["form"].errors.get("village")
    assert not Project.objects.filter(code="T-REG-X").exists()


def test_an_enterprise_shows_a_partner_village_only_its_own_partnership(demo_user):
    enterprise = actions.create_enterprise(name="两村结对测试企业", town=region(TOWN), by=None)
    for code, sales in ((WLNE, "100.00"), (NLXL, "900.00")):
        p = actions.add_partnership(enterprise, village=region(code), start_date=datetime.date(2022, 1, 1), by=None)
        actions.record_partnership_year(p, year=YEAR, produce_sales=sales, jobs=1, by=None)
    meeting = actions.record_meeting(town=region(TOWN), date=datetime.date(2023, 1, 5), title="两村联席会",
                                     enterprises=[enterprise], villages=[region(WLNE), region(NLXL)], by=None)
    assert meeting.pk

    r = client_for(demo_user("wlne_secretary")).get(enterprise.get_absolute_url())
    assert r.status_code == 200
    assert [p.village.code for p in r.context["partnerships"]] == [WLNE]
    assert r.context["totals"]["produce_sales"] == Decimal("100.00")
    assert "两村联席会" in text(r) and "纳林希里" not in text(r) and NLXL not in text(r)
    listed = client_for(demo_user("wlne_secretary")).get("/economy/enterprises/", {"q": "两村结对"})
    (row,) = list(listed.context["table"].data)
    assert (row.partner_count, row.produce_total) == (1, Decimal("100.00"))

    r = client_for(demo_user("town_admin")).get(enterprise.get_absolute_url())
    assert sorted(p.village.code for p in r.context["partnerships"]) == sorted([WLNE, NLXL])
    assert r.context["totals"]["produce_sales"] == Decimal("1000.00")


def test_pairing_list_shows_the_weak_villages_income_before_and_in_the_last_complete_year(demo_user):
    weak = third_village()
    start = datetime.date(2022, 4, 1)
    pairing = actions.create_pairing(weak=weak, strong=region(WLNE), measures="共建合作社", start_date=start, by=None)
    last = datetime.date.today().year - 1
    base = IncomeEntry.objects.filter(village=weak, category__in=["operating", "investment", "contract"])

    def year_total(year):
        return base.filter(month__year=year).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")

    before_2021, before_last = year_total(2021), year_total(last)
    actions.record_income(village=weak, month=datetime.date(2021, 6, 1), category="operating", amount="1234.56",
                          by=None)
    actions.record_income(village=weak, month=datetime.date(2021, 7, 1), category="subsidy", amount="99999.00",
                          by=None)  # a subsidy is income but not operating income
    actions.record_income(village=weak, month=datetime.date(last, 3, 1), category="investment", amount="10.01",
                          by=None)
    r = client_for(demo_user("town_admin")).get("/economy/pairings/", {"per_page": 100})
    assert r.status_code == 200
    table = r.context["table"]
    assert table.incomes[(weak.pk, 2021)] == before_2021 + Decimal("1234.56")
    assert table.incomes[(weak.pk, last)] == before_last + Decimal("10.01")
    row_html = next(row for row in table.rows if row.record.pk == pairing.pk)
    assert f"{before_2021 + Decimal('1234.56'):,.2f}" in row_html.get_cell("income_before")

    detail = client_for(demo_user("town_admin")).get(pairing.get_absolute_url())
    years = {y["year"]: y for y in detail.context["years"]}
    assert years[2021]["is_base"] and years[2021]["amount"] == before_2021 + Decimal("1234.56")
    assert years[last]["change"] == years[last]["amount"] - years[2021]["amount"]
    # the strong village's secretary sees the pairing but not the weak village's ledger
    r = client_for(demo_user("wlne_secretary")).get(pairing.get_absolute_url())
    assert r.status_code == 200 and r.context["readable"] is False and "1,234.56" not in text(r)


@pytest.mark.parametrize("url", ["/economy/pools/", "/economy/pairings/", "/economy/enterprises/",
                                 "/economy/projects/"])
def test_lists_answer_a_secretary_within_scope(url, demo_user):
    r = client_for(demo_user("nlxl_secretary")).get(url)
    assert r.status_code == 200
    assert "乌兰淖尔" not in text(r)


def test_pool_list_costs_the_same_queries_for_two_rows_as_for_many(demo_user):
    """The demo holds only two pools, too few for the walk-wide query-count test: measured here on more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(4):
        pool = make_pool(code=f"T-QC-{i}", shares=((WLNE, "1000.00"), (third_village().code, "2000.00")))
        actions.propose_dividend_run(pool, year=YEAR, distributable="300.00", by=None)
    client = client_for(demo_user("town_admin"))
    measured = {}
    for per_page in (2, 100):
        client.get("/economy/pools/", {"per_page": per_page})
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/economy/pools/", {"per_page": per_page})
        measured[per_page] = (len(ctx.captured_queries), len(r.context["table"].page.object_list))
    assert measured[2][1] == 2 and measured[100][1] >= 4
    assert measured[2][0] == measured[100][0] <= 20, measured
    row = next(b.record for b in r.context["table"].page.object_list if b.record.code == "T-QC-0")
    assert (row.participant_count, row.last_run_year, row.last_run_status) == (2, YEAR, DividendRun.Status.DRAFT)
