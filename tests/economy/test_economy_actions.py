"""The collective-economy actions on the real database: the ledger is append-only (corrections are
reversing entries), its totals reconcile to the cent with the entries summed in Python, bad input gets a
Chinese message naming the field and writes nothing, pooled projects post and reverse their dividend runs
exactly, pairings and enterprises are checked, and two approvers at once post a run once (PostgreSQL).

The test villages (经济测试甲/乙/丙村) are made here, inside each test's transaction, so the figures are
ours alone whatever the demo holds."""
import datetime
import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from yiwang.areas import actions as area_actions
from yiwang.areas.models import Region
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.models import AuditEntry
from yiwang.core.periods import Period
from yiwang.economy import actions, ledger, metrics
from yiwang.economy.models import (
    DividendAllocation, DividendRun, Enterprise, IncomeEntry, PooledProject, PoolShare, Project, VillagePairing,
)

TOWN, WLNE, NLXL, COMMUNITY = "150627105", "150627105215", "150627105214", "150627105003"
A, B, C = "150627105281", "150627105282", "150627105283"
TODAY = datetime.date.today()
Y = 2020  # a year of our own: the demo's ledger is later


def _villages():
    area_actions.load_divisions([{"code": code, "name": name, "level": "village", "parent_code": TOWN}
                                 for code, name in ((A, "经济测试甲村"), (B, "经济测试乙村"), (C, "经济测试丙村"))],
                                under=TOWN, by=None)


@pytest.fixture
def s(db, demo_user):
    _villages()

    class S:
        town = Region.objects.get(code=TOWN)
        a, b, c = (Region.objects.get(code=code) for code in (A, B, C))
        wlne, nlxl = Region.objects.get(code=WLNE), Region.objects.get(code=NLXL)
        admin = demo_user("town_admin")
        secretary, other_secretary = demo_user("wlne_secretary"), demo_user("nlxl_secretary")
        viewer = demo_user("banner_viewer")

    return S


def income(s, village=None, month=f"{Y}-03", category="operating", amount="1000.00", **kw):
    return actions.record_income(village=village or s.a, month=month, category=category, amount=amount,
                                 by=kw.pop("by", s.admin), **kw)


def economy_rows():
    """Everything the economy actions write, to prove a refused or failed call wrote nothing."""
    return {
        "entries": list(IncomeEntry.objects.order_by("pk").values_list("pk", "amount", "reverses_id", "reviewed_at")),
        "runs": list(DividendRun.objects.order_by("pk").values_list("pk", "status")),
        "allocations": list(DividendAllocation.objects.order_by("pk").values_list("pk", "amount", "entry_id")),
        "pools": list(PooledProject.objects.order_by("pk").values_list("pk")),
        "shares": list(PoolShare.objects.order_by("pk").values_list("pk", "capital")),
        "projects": list(Project.objects.order_by("pk").values_list("pk")),
        "pairings": list(VillagePairing.objects.order_by("pk").values_list("pk")),
        "enterprises": list(Enterprise.objects.order_by("pk").values_list("pk")),
    }


def last_audit():
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def refused_with(call, field):
    """``call`` raises an ActionError naming ``field``, and nothing is written (not even an audit entry)."""
    before, since = economy_rows(), last_audit()
    with pytest.raises(ActionError) as e:
        call()
    assert e.value.field == field, (e.value.field, e.value.text)
    assert e.value.text and any("\u4e00" <= ch <= "\u9fff" for ch in e.value.text)  # a Chinese message
    assert economy_rows() == before
    assert not AuditEntry.objects.filter(pk__gt=since, allowed=True).exists()
    return e.value


# --------------------------------------------------------------------------- the ledger is append-only


def test_an_entry_cannot_be_changed_or_deleted_but_may_be_reviewed(s):
    entry = income(s, amount="1234.56")
    entry.amount = Decimal("1.00")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    rows = IncomeEntry.objects.filter(pk=entry.pk)
    with pytest.raises(PermissionError):
        rows.update(amount=Decimal("1.00"))
    with pytest.raises(PermissionError):
        rows.update(note="改摘要", reviewed_at=timezone.now())  # a review field does not carry another change
    with pytest.raises(PermissionError):
        rows.delete()
    with pytest.raises(PermissionError):
        IncomeEntry.objects.filter(village=s.a).delete()
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("1234.56")

    assert rows.update(reviewed_at=timezone.now(), reviewed_by=s.admin) == 1  # the review stamp may be set
    fresh = IncomeEntry.objects.get(pk=entry.pk)
    assert fresh.reviewed_by == s.admin and fresh.amount == Decimal("1234.56")


def test_review_is_once_and_needs_the_approve_permission(s):
    entry = income(s)
    with pytest.raises(PermissionRefused):
        actions.review_entry(entry, by=s.secretary)  # a village cadre enters; the town's 经管站 reviews
    reviewed = actions.review_entry(entry, by=s.admin)
    assert reviewed.reviewed_by == s.admin and reviewed.reviewed_at is not None
    refused_with(lambda: actions.review_entry(reviewed, by=s.admin), "entry")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger's trigger exists on PostgreSQL only")
def test_raw_sql_cannot_change_the_ledger_on_postgresql(s):
    from django.db import DatabaseError

    entry = income(s, amount="77.00")
    for sql in ("UPDATE economy_incomeentry SET amount = 1 WHERE id = %s",
                "DELETE FROM economy_incomeentry WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE economy_incomeentry SET reviewed_at = now() WHERE id = %s", [entry.pk])
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("77.00")


def test_a_reversal_nets_to_zero_and_is_final(s):
    entry = income(s, month=f"{Y}-05", category="contract", amount="1234.56")
    reversal = actions.reverse_entry(entry, reason="录错村", by=s.admin)
    assert (reversal.amount, reversal.month, reversal.category, reversal.village_id, reversal.reverses_id) == (
        Decimal("-1234.56"), entry.month, entry.category, entry.village_id, entry.pk)
    assert IncomeEntry.objects.get(pk=entry.pk).amount == Decimal("1234.56")  # the original stays as written
    month = datetime.date(Y, 5, 1)
    assert ledger.total(ledger.entries_in(s.a, month, month)) == 0
    assert not actions.live_entries().filter(pk__in=[entry.pk, reversal.pk]).exists()

    assert "冲销分录" in refused_with(lambda: actions.reverse_entry(reversal, reason="再冲", by=s.admin), "entry").text
    assert "已冲销" in refused_with(lambda: actions.reverse_entry(entry, reason="再冲", by=s.admin), "entry").text
    other = income(s, amount="10.00")
    refused_with(lambda: actions.reverse_entry(other, reason="  ", by=s.admin), "reason")


def test_a_correction_is_a_reversal_and_a_new_entry_in_one_transaction(s):
    entry = income(s, month=f"{Y}-04", amount="500.00", source_document="记-0401")
    new = actions.correct_entry(entry, amount="450.00", reason="金额更正", by=s.admin)
    assert (new.amount, new.month, new.category, new.source_document) == (
        Decimal("450.00"), entry.month, entry.category, "记-0401")
    assert IncomeEntry.objects.get(reverses=entry).amount == Decimal("-500.00")
    month = datetime.date(Y, 4, 1)
    assert ledger.total(ledger.entries_in(s.a, month, month)) == Decimal("450.00")
    assert list(actions.live_entries().filter(village=s.a)) == [new]

    # a correction whose new entry is refused leaves no reversal behind: the old entry still stands
    refused_with(lambda: actions.correct_entry(new, amount="abc", reason="再更正", by=s.admin), "amount")
    assert actions.live_entries().filter(pk=new.pk).exists()
    assert ledger.total(ledger.entries_in(s.a, month, month)) == Decimal("450.00")
    new2 = actions.correct_entry(new, category="补助收入", reason="类别更正", by=s.admin)
    assert (new2.category, new2.amount) == ("subsidy", Decimal("450.00"))
    with pytest.raises(PermissionRefused):
        actions.correct_entry(new2, amount="1.00", reason="越权", by=s.other_secretary)


def test_ledger_totals_reconcile_to_the_cent_with_the_entries(s, settings):
    rng = random.Random(5)
    cats = ["operating", "investment", "contract", "subsidy", "other"]
    written = []
    for _ in range(60):
        village = rng.choice([s.a, s.b])
        written.append(income(s, village=village, month=f"{Y}-{rng.randint(1, 12):02d}", category=rng.choice(cats),
                              amount=f"{rng.randint(1, 10**9) / 100:.2f}"))
    for entry in rng.sample(written, 8):
        actions.reverse_entry(entry, reason="测试冲销", by=s.admin)

    operating = set(ledger.DEFAULT_OPERATING)
    mine = list(IncomeEntry.objects.filter(village=s.a, month__year=Y))
    assert {e.pk for e in mine if not e.reverses_id} == {e.pk for e in written if e.village_id == s.a.pk}
    start, end = datetime.date(Y, 1, 1), datetime.date(Y, 12, 31)
    assert ledger.total(ledger.entries_in(s.a, start, end)) == sum(e.amount for e in mine)
    assert ledger.total(ledger.entries_in(s.a, start, end, operating_only=True)) == sum(
        e.amount for e in mine if e.category in operating)

    st = ledger.statement(s.a, Y)
    assert st["total"] == sum(e.amount for e in mine)
    assert st["operating"] == sum(e.amount for e in mine if e.category in operating)
    for cat in cats:
        assert st["categories"][cat] == sum((e.amount for e in mine if e.category == cat), Decimal(0))
    for month, values, month_operating, month_total in st["months"]:
        rows = [e for e in mine if e.month == month]
        assert month_total == sum((e.amount for e in rows), Decimal(0))
        assert month_operating == sum((e.amount for e in rows if e.category in operating), Decimal(0))
        assert sum(values.values(), Decimal(0)) == month_total

    # the town's figure over everything in it that year (the demo's rows too), summed here in Python
    town_rows = IncomeEntry.objects.filter(region_path__startswith=s.town.path, month__year=Y)
    assert metrics.operating_income(s.town, Period.year(Y)) == sum(
        (e.amount for e in town_rows if e.category in operating), Decimal(0))
    q2 = Period.parse(f"{Y}Q2")
    assert metrics.operating_income(s.a, q2) == sum(
        (e.amount for e in mine if e.category in operating and 4 <= e.month.month <= 6), Decimal(0))
    assert ledger.by_village(ledger.entries_in(s.town, start, end)).get(s.b.pk) == sum(
        e.amount for e in IncomeEntry.objects.filter(village=s.b, month__year=Y))

    settings.ECONOMY_OPERATING_CATEGORIES = ["operating"]  # a town that counts only 经营性收入
    assert metrics.operating_income(s.a, Period.year(Y)) == sum(
        (e.amount for e in mine if e.category == "operating"), Decimal(0))
    assert ledger.statement(s.a, Y)["operating"] == st["categories"]["operating"]


# --------------------------------------------------------------------------- bad input writes nothing


def _next_month():
    return (TODAY.replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")


@pytest.mark.parametrize("kw, field", [
    ({"amount": "12.345"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "一千元"}, "amount"),
    ({"amount": ""}, "amount"),
    ({"month": "next"}, "month"),
    ({"month": "2023-13"}, "month"),
    ({"month": "五月"}, "month"),
    ({"month": "1999-05"}, "month"),
    ({"category": "salary"}, "category"),
    ({"source_document": "凭" * 201}, "source_document"),
])
def test_bad_income_names_the_field_and_writes_nothing(s, kw, field):
    if kw.get("month") == "next":
        kw["month"] = _next_month()
    refused_with(lambda: income(s, **kw), field)


def test_income_accepts_month_forms_and_labels(s):
    entry = income(s, month=f"{Y}年7月", category="投资收益", amount="1,000.5")
    assert (entry.month, entry.category, entry.amount) == (datetime.date(Y, 7, 1), "investment", Decimal("1000.50"))


def test_a_project_of_another_village_or_a_community_is_refused(s):
    project = actions.create_project(village=s.b, code="T-ECO-B1", name="乙村养殖", kind="breeding",
                                     start_date=f"{Y}-01-01", by=None)
    assert "不属于" in refused_with(lambda: income(s, village=s.a, project=project), "project").text
    community = Region.objects.get(code=COMMUNITY)
    refused_with(lambda: income(s, village=community), "village")
    refused_with(lambda: income(s, village=s.town), "village")


def test_a_duplicate_voucher_is_refused_while_its_entry_stands(s):
    entry = income(s, source_document="记-0001")
    refused_with(lambda: income(s, source_document="记-0001"), "source_document")
    actions.reverse_entry(entry, reason="重录", by=s.admin)
    assert income(s, source_document="记-0001").amount == Decimal("1000.00")


def test_income_outside_scope_is_refused_and_audited(s):
    before, since = economy_rows(), last_audit()
    with pytest.raises(PermissionRefused):
        income(s, village=s.wlne, by=s.other_secretary)
    with pytest.raises(PermissionRefused):
        income(s, village=s.wlne, by=s.viewer)  # sees it, may not write
    assert economy_rows() == before
    refusals = AuditEntry.objects.filter(pk__gt=since, action="economy.record_income")
    assert [(r.actor_label, r.allowed) for r in refusals.order_by("pk")] == [
        ("nlxl_secretary", False), ("banner_viewer", False)]
    assert all(r.reason and r.region_path == s.wlne.path for r in refusals)
    assert income(s, village=s.wlne, by=s.secretary).village == s.wlne  # its own secretary may


# --------------------------------------------------------------------------- pooled projects and dividends


@pytest.fixture
def pool(s):
    pool = actions.create_pool(code="T-POOL-1", name="测试抱团项目", host=s.a, start_date=f"{Y}-01-01",
                               total_capital="1000000.00", retained_percent="10", by=None)
    for village, capital in ((s.a, "500000.00"), (s.b, "300000.00"), (s.c, "200000.00")):
        actions.add_pool_share(pool, village=village, capital=capital, joined_on=f"{Y}-01-01", by=None)
    return pool


def test_shares_are_positive_and_never_exceed_the_pool(s):
    pool = actions.create_pool(code="T-POOL-2", name="测试抱团二", host=s.a, start_date=f"{Y}-01-01",
                               total_capital="800000.00", by=None)
    refused_with(lambda: actions.add_pool_share(pool, village=s.a, capital="-1.00", joined_on=f"{Y}-01-01",
                                                by=s.admin), "capital")
    refused_with(lambda: actions.add_pool_share(pool, village=s.a, capital="0", joined_on=f"{Y}-01-01",
                                                by=s.admin), "capital")
    actions.add_pool_share(pool, village=s.a, capital="500000.00", joined_on=f"{Y}-01-01", by=s.admin)
    e = refused_with(lambda: actions.add_pool_share(pool, village=s.b, capital="300000.01", joined_on=f"{Y}-01-01",
                                                    by=s.admin), "capital")
    assert "超过" in e.text
    refused_with(lambda: actions.add_pool_share(pool, village=s.a, capital="1.00", joined_on=f"{Y}-01-01",
                                                by=s.admin), "village")  # joined already
    refused_with(lambda: actions.create_pool(code="T-POOL-3", name="x", host=s.a, start_date=f"{Y}-01-01",
                                             total_capital="-5", by=s.admin), "total_capital")
    refused_with(lambda: actions.create_pool(code="T-POOL-2", name="x", host=s.a, start_date=f"{Y}-01-01",
                                             total_capital="5", by=s.admin), "code")

    # 800,000 of 800,000 is not yet covered with 500,000: no preview, no run
    refused_with(lambda: actions.preview_dividend(pool, year=Y, distributable="1000.00"), "shares")
    refused_with(lambda: actions.propose_dividend_run(pool, year=Y, distributable="1000.00", by=s.admin), "shares")
    actions.add_pool_share(pool, village=s.b, capital="300000.00", joined_on=f"{Y}-01-01", by=s.admin)
    assert actions.preview_dividend(pool, year=Y, distributable="1000.00").payout == Decimal("1000.00")


def test_a_run_is_proposed_once_per_year_and_not_before_the_pool(s, pool):
    refused_with(lambda: actions.propose_dividend_run(pool, year=Y - 1, distributable="1000.00", by=s.admin), "year")
    refused_with(lambda: actions.propose_dividend_run(pool, year=TODAY.year + 1, distributable="1000.00",
                                                      by=s.admin), "year")
    refused_with(lambda: actions.propose_dividend_run(pool, year=Y, distributable="1000.005", by=s.admin),
                 "distributable")
    refused_with(lambda: actions.propose_dividend_run(pool, year=Y, distributable="100.00", post_month=f"{Y + 1}-01",
                                                      by=s.admin), "post_month")
    run = actions.propose_dividend_run(pool, year=Y, distributable="123456.79", by=s.admin)
    assert run.status == "draft" and run.post_month == datetime.date(Y, 12, 1)
    refused_with(lambda: actions.propose_dividend_run(pool, year=Y, distributable="1.00", by=s.admin), "year")
    # the draft holds the preview: what the approver sees is what will be posted
    assert (run.retained, run.payout) == (Decimal("12345.67"), Decimal("111111.12"))
    assert {a.village_id: a.amount for a in run.allocations.all()} == {
        s.a.pk: Decimal("55555.56"), s.b.pk: Decimal("33333.34"), s.c.pk: Decimal("22222.22")}
    assert not IncomeEntry.objects.filter(source_document=f"分红-{run.pk}").exists()  # nothing posted yet
    # withdrawing the draft frees the year
    withdrawn = actions.reverse_dividend_run(run, reason="重新核算", by=s.admin)
    assert withdrawn.pk == run.pk and withdrawn.status == "withdrawn"
    assert actions.propose_dividend_run(pool, year=Y, distributable="1.00", by=s.admin).status == "draft"


def _investment(village, year):
    return ledger.total(ledger.entries_in(village, datetime.date(year, 1, 1), datetime.date(year, 12, 31)).filter(
        category="investment"))


def test_approve_posts_one_entry_per_participant_and_reverse_nets_the_year_to_zero(s, pool):
    run = actions.propose_dividend_run(pool, year=Y, distributable="123456.79", by=s.admin)
    with pytest.raises(PermissionRefused):
        actions.approve_dividend_run(run, by=s.secretary)  # a village may propose for its own, not approve
    posted = actions.approve_dividend_run(run, by=s.admin)
    assert posted.status == "posted" and posted.approved_by == s.admin
    allocations = list(posted.allocations.select_related("entry"))
    assert sum(a.amount for a in allocations) == posted.payout == Decimal("111111.12")
    for a in allocations:
        entries = IncomeEntry.objects.filter(village_id=a.village_id, month__year=Y, category="investment")
        assert [(e.pk, e.amount, e.month) for e in entries] == [(a.entry_id, a.amount, datetime.date(Y, 12, 1))]
    assert _investment(s.b, Y) == Decimal("33333.34")
    assert metrics.pooled_income_added(s.b, Period.year(Y)) == Decimal("33333.34")
    assert metrics.operating_income(s.b, Period.year(Y)) == Decimal("33333.34")  # 投资收益 is operating income

    assert "待审批" in refused_with(lambda: actions.approve_dividend_run(posted, by=s.admin), "run").text
    refused_with(lambda: actions.reverse_entry(allocations[0].entry, reason="直接冲", by=s.admin), "entry")

    reversing = actions.reverse_dividend_run(posted, reason="利润核减", by=s.admin)
    assert reversing.reverses_id == run.pk and reversing.payout == -posted.payout
    assert DividendRun.objects.get(pk=run.pk).status == "reversed"
    for v in (s.a, s.b, s.c):
        assert _investment(v, Y) == 0
        assert metrics.operating_income(v, Period.year(Y)) == 0
        assert metrics.pooled_income_added(v, Period.year(Y)) == 0
        assert ledger.statement(v, Y)["total"] == 0
    assert IncomeEntry.objects.filter(reverses__in=[a.entry_id for a in allocations]).count() == 3

    refused_with(lambda: actions.reverse_dividend_run(reversing, reason="再冲", by=s.admin), "run")
    refused_with(lambda: actions.reverse_dividend_run(DividendRun.objects.get(pk=run.pk), reason="再冲",
                                                      by=s.admin), "run")
    again = actions.propose_dividend_run(pool, year=Y, distributable="100000.00", by=s.admin)  # the year is free
    actions.approve_dividend_run(again, by=s.admin)
    assert _investment(s.a, Y) == Decimal("45000.00")  # 90,000 × 50%


def test_a_zero_part_posts_no_entry(s):
    pool = actions.create_pool(code="T-POOL-Z", name="测试零分", host=s.a, start_date=f"{Y}-01-01",
                               total_capital="4.00", by=None)
    actions.add_pool_share(pool, village=s.a, capital="1.00", joined_on=f"{Y}-01-01", by=None)
    actions.add_pool_share(pool, village=s.b, capital="3.00", joined_on=f"{Y}-01-01", by=None)
    run = actions.approve_dividend_run(actions.propose_dividend_run(pool, year=Y, distributable="0.02", by=s.admin),
                                       by=s.admin)
    assert {a.village_id: (a.amount, a.entry_id is None) for a in run.allocations.all()} == {
        s.a.pk: (Decimal("0.00"), True), s.b.pk: (Decimal("0.02"), False)}
    reversing = actions.reverse_dividend_run(run, reason="测试", by=s.admin)
    assert sum(a.amount for a in reversing.allocations.all()) == Decimal("-0.02")
    assert _investment(s.b, Y) == 0


# --------------------------------------------------------------------------- pairings and enterprises


def test_a_village_cannot_pair_with_itself(s):
    refused_with(lambda: actions.create_pairing(weak=s.a, strong=s.a, measures="帮带", start_date=f"{Y}-01-01",
                                                by=s.admin), "strong")
    refused_with(lambda: actions.create_pairing(weak=s.a, measures="帮带", start_date=f"{Y}-01-01", by=s.admin),
                 "strong")
    pairing = actions.create_pairing(weak=s.a, strong=s.b, measures="产业帮带", start_date=f"{Y}-01-01", by=s.admin)
    assert not pairing.is_cross_town
    refused_with(lambda: actions.create_pairing(weak=s.a, strong=s.b, measures="再帮", start_date=f"{Y}-02-01",
                                                by=s.admin), "strong")


def test_enterprise_credit_code_and_name_are_checked(s):
    from stdnum.cn import uscc

    base = "91150627MA0N12345"
    valid = base + uscc.calc_check_digit(base)
    wrong = base + ("0" if valid[-1] != "0" else "1")
    refused_with(lambda: actions.create_enterprise(name="测试企业甲", town=s.town, credit_code=wrong, by=s.admin),
                 "credit_code")
    refused_with(lambda: actions.create_enterprise(name="测试企业甲", town=s.town, credit_code="123", by=s.admin),
                 "credit_code")
    refused_with(lambda: actions.create_enterprise(name="测试企业甲", town=s.a, by=s.admin), "town")
    made = actions.create_enterprise(name="测试企业甲", town=s.town, credit_code=valid.lower(), by=s.admin)
    assert made.credit_code == valid
    refused_with(lambda: actions.create_enterprise(name="测试企业甲", town=s.town, by=s.admin), "name")
    refused_with(lambda: actions.create_enterprise(name="测试企业乙", town=s.town, credit_code=valid, by=s.admin),
                 "credit_code")
    with pytest.raises(PermissionRefused):
        actions.create_enterprise(name="测试企业丙", town=s.town, by=s.secretary)  # registered by the town


# --------------------------------------------------------------------------- two approvers at once


def test_two_approvers_at_once_post_the_run_once(django_db_setup, django_db_blocker):
    """Two threads, two connections, the same draft: exactly one approval posts. Committed data (each
    thread has its own connection), removed at the end — the ledger's trigger is lifted for the cleanup."""
    from yiwang.accounts.models import User

    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need a server database (SQLite serialises writers)")
    django_db_blocker.unblock()
    wlne, nlxl = Region.objects.get(code=WLNE), Region.objects.get(code=NLXL)
    pool = actions.create_pool(code="T-POOL-RACE", name="并发测试抱团", host=wlne, start_date="2019-01-01",
                               total_capital="300.00", by=None)
    shares = [actions.add_pool_share(pool, village=v, capital=c, joined_on="2019-01-01", by=None)
              for v, c in ((wlne, "100.00"), (nlxl, "200.00"))]
    run = actions.propose_dividend_run(pool, year=2019, distributable="90.00", by=None)
    approver = User.objects.get(username="town_admin")
    barrier, results = threading.Barrier(2), []

    def act():
        from django.db import connection as conn

        copy = DividendRun.objects.get(pk=run.pk)
        barrier.wait()
        try:
            actions.approve_dividend_run(copy, by=approver)
            results.append("ok")
        except ActionError as e:
            results.append(e.field)
        finally:
            conn.close()

    threads = [threading.Thread(target=act) for _ in range(2)]
    try:
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(results) == ["ok", "run"]
        posted = IncomeEntry.objects.filter(source_document=f"分红-{run.pk}")
        assert sorted(e.amount for e in posted) == [Decimal("30.00"), Decimal("60.00")]
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending at ALTER TABLE
            entry_ids = list(DividendAllocation.objects.filter(run__pool=pool).exclude(entry=None)
                             .values_list("entry_id", flat=True))
            DividendAllocation.objects.filter(run__pool=pool).delete()
            cursor.execute("ALTER TABLE economy_incomeentry DISABLE TRIGGER economy_incomeentry_append_only")
            cursor.execute("DELETE FROM economy_incomeentry WHERE id = ANY(%s)", [entry_ids])
            cursor.execute("ALTER TABLE economy_incomeentry ENABLE TRIGGER economy_incomeentry_append_only")
            DividendRun.objects.filter(pool=pool).delete()
            PoolShare.objects.filter(pk__in=[sh.pk for sh in shares]).delete()
            PooledProject.objects.filter(pk=pool.pk).delete()
        django_db_blocker.restore()
