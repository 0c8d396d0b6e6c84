"""The demo town's collective economy: every figure of FACTS.md §3 comes out of the records through the
metric registry, checked where it is cheap against a ground truth recomputed here in Python from the
rows themselves (sums of IncomeEntry amounts, the forecast formula, distinct villages); the two villages
of the scope tests each hold rows of every economy model and share none; the step is idempotent; the
bulk-written ledger carries the audit entries ``record_income`` writes."""
import datetime
import io
import json
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command

from yiwang.areas.models import Region
from yiwang.core import testing
from yiwang.core.models import AuditEntry
from yiwang.core.periods import Period
from yiwang.demo.registry import DemoContext
from yiwang.economy import forecast, tiers
from yiwang.economy.models import (
    DividendRun, Enterprise, IncomeEntry, JointMeeting, Partnership, PartnershipYear,
    PooledProject, PoolShare, Project, ProjectParty, Tier, TierDesignation, VillagePairing, Zone,
)
from yiwang.insights import registry

pytestmark = pytest.mark.django_db

TOWN, WLNE, NLXL, COMMUNITY = "150627105", "150627105215", "150627105214", "150627105003"
OPERATING = {"operating", "investment", "contract"}
ECONOMY_MODELS = [m for m in testing.scoped_models() if m._meta.app_label == "economy"]


def value(key, period):
    return registry.get(key).value(Region.objects.get(code=TOWN), Period.parse(period))


@pytest.fixture
def town():
    return Region.objects.get(code=TOWN)


@pytest.fixture
def villages(town):
    """{short name: village} of the 28 嘎查村."""
    return {v.short_name: v for v in Region.objects.filter(parent=town, kind=Region.Kind.VILLAGE)}


def operating_by_village_year():
    """{(village id, year): operating income} summed in Python from the rows (reversals included)."""
    out = defaultdict(Decimal)
    for village_id, month, category, amount in IncomeEntry.objects.values_list("village", "month", "category", "amount"):
        if category in OPERATING:
            out[village_id, month.year] += amount
    return out


def operating_through(village_id, year, month):
    return sum((a for v, m, c, a in IncomeEntry.objects.values_list("village", "month", "category", "amount")
                if v == village_id and m.year == year and m.month <= month and c in OPERATING), Decimal(0))


# --------------------------------------------------------------------------- projects, bases, layout


def test_63_projects_over_every_village_none_ended(town, villages):
    assert value("economy.projects", "2023-06-30") == 63
    assert value("economy.projects", "2022-12-31") == 63
    projects = list(Project.objects.filter(region_path__startswith=town.path).select_related("village"))
    assert len(projects) == 63 and all(p.is_demo for p in projects)
    assert {p.village.short_name for p in projects} == set(villages)  # every village at least one
    assert not Project.objects.filter(village__code=COMMUNITY).exists()  # the community keeps no ledger
    assert all(p.status != Project.Status.ENDED and p.end_date is None for p in projects)
    assert all(re.fullmatch(rf"XM-{p.village.code}-\d\d", p.code) for p in projects)
    assert len({p.kind for p in projects}) >= 6 and len({p.status for p in projects}) >= 3
    located = [p for p in projects if p.latitude is not None]
    assert 20 <= len(located) < 63
    assert all(abs(p.latitude - Decimal("39.18")) < 1 and abs(p.longitude - Decimal("109.56")) < 1 for p in located)
    assert sum(1 for p in projects if p.zone_id) >= 30
    with_product = {p.village.code for p in projects if p.product}
    assert {WLNE, NLXL} <= with_product and len(with_product) >= 6


def test_four_donkey_bases_each_with_the_six_parties():
    assert value("economy.breeding_bases", "2023-06-30") == 4
    bases = list(Project.objects.filter(kind=Project.Kind.BREEDING, is_base=True).select_related("village"))
    assert len(bases) == 4 and len({b.village_id for b in bases}) == 4
    assert {WLNE, NLXL} <= {b.village.code for b in bases}
    for base in bases:
        assert base.product == "乌驴"
        parties = {p.role: p for p in ProjectParty.objects.filter(project=base)}
        assert set(parties) == set(ProjectParty.Role.values), base
        assert parties["bank"].amount > 0 and parties["insurer"].insured_heads > 0


def test_the_layout_is_four_areas_five_parks_ten_bases_named_after_no_village(town, villages):
    zones = Zone.objects.filter(town=town)
    assert {k: zones.filter(kind=k).count() for k in ("area", "park", "base")} == {"area": 4, "park": 5, "base": 10}
    stems = set(villages) | {name.removesuffix("村") for name in villages}
    assert not [(z.name, s) for z in zones for s in stems if s in z.name]


# --------------------------------------------------------------------------- the ledger


def test_operating_income_2022_is_exactly_16392700(town):
    assert value("economy.operating_income", "2022") == Decimal("16392700.00")
    truth = sum(v for (_, year), v in operating_by_village_year().items() if year == 2022)
    assert truth == Decimal("16392700.00")


def test_ledger_is_monthly_for_every_village_and_category(villages):
    months = defaultdict(set)
    for village_id, month in IncomeEntry.objects.values_list("village", "month"):
        months[village_id].add(month)
    expected = {datetime.date(y, m, 1) for y in (2021, 2022, 2023) for m in range(1, 13)
                if datetime.date(y, m, 1) <= datetime.date(2023, 6, 1)}
    assert len(expected) == 30
    for name, village in villages.items():
        assert months[village.pk] == expected, name
    assert set(IncomeEntry.objects.values_list("category", flat=True)) == {
        "operating", "investment", "contract", "subsidy", "other"}
    assert 2000 <= IncomeEntry.objects.count() <= 3000
    assert not IncomeEntry.objects.filter(is_demo=False).exists()
    assert not IncomeEntry.objects.filter(reverses__isnull=True, amount__lte=0).exists()


def test_the_seasonal_profile_repeats_from_year_to_year(villages):
    """Each village earns a similar share of its year by June in 2021 and 2022 (the forecast relies on it)."""
    totals = operating_by_village_year()
    for name, village in villages.items():
        shares = [operating_through(village.pk, y, 6) / totals[village.pk, y] for y in (2021, 2022)]
        assert abs(shares[0] - shares[1]) < Decimal("0.08"), (name, shares)


def test_some_entries_are_reviewed_and_corrections_show_as_reversals():
    assert IncomeEntry.objects.filter(reviewed_at__isnull=False).count() > 1500
    assert IncomeEntry.objects.filter(reviewed_at__isnull=True, month__year=2023).exists()
    for code in (WLNE, NLXL):
        reversals = IncomeEntry.objects.filter(village__code=code, reverses__isnull=False, allocation__isnull=True)
        assert reversals.exists(), code
        for r in reversals.select_related("reverses"):
            assert r.amount == -r.reverses.amount and r.month == r.reverses.month and r.note.startswith("冲销")
    # a correction (correct_entry) = a reversal plus a new entry under the same voucher
    corrected = AuditEntry.objects.filter(action="economy.correct_entry").values_list("object_id", flat=True)
    assert len(corrected) == 2
    for pk in corrected:
        new = IncomeEntry.objects.get(pk=pk)
        old = IncomeEntry.objects.get(village=new.village, source_document=new.source_document, month=new.month,
                                      reversal__isnull=False)
        assert (old.amount, old.category) != (new.amount, new.category)


def test_the_bulk_ledger_has_the_audit_entries_record_income_writes():
    direct = {str(pk) for pk in IncomeEntry.objects.filter(reverses__isnull=True, allocation__isnull=True)
              .values_list("pk", flat=True)}
    audited = AuditEntry.objects.filter(action="economy.record_income", model="economy.IncomeEntry")
    assert set(audited.values_list("object_id", flat=True)) == direct
    sample = IncomeEntry.objects.filter(reverses__isnull=True, allocation__isnull=True).order_by("pk").first()
    entry = audited.get(object_id=str(sample.pk))
    assert entry.region_path == sample.region_path and entry.actor_id is None and entry.channel == "demo"
    assert entry.changes["amount"] == [None, str(sample.amount)] and entry.changes["village"] == [None, str(sample.village_id)]
    reviewed = set(AuditEntry.objects.filter(action="economy.review_entry").values_list("object_id", flat=True))
    assert reviewed == {str(pk) for pk in IncomeEntry.objects.filter(reviewed_at__isnull=False).values_list("pk", flat=True)}


# --------------------------------------------------------------------------- tiers and the forecast


def test_tiers_move_from_2021_to_2022(town, villages):
    totals = operating_by_village_year()
    weak_2021 = {n for n, v in villages.items() if totals[v.pk, 2021] < 100000}
    assert weak_2021 == {"昌车渠村", "乌兰敖包村", "白格针村", "冯家渠村", "独贵梁村", "其根沟村", "阿道亥村"}
    assert value("economy.villages_by_tier", "2021")[Tier.WEAK] == 7
    moved = tiers.movement(town, 2022)
    assert moved.get((Tier.WEAK, Tier.ORDINARY), 0) >= 2
    assert moved.get((Tier.ORDINARY, Tier.DEMONSTRATION), 0) >= 2
    counts = value("economy.villages_by_tier", "2022")
    assert counts[Tier.WEAK] < 7 and sum(counts.values()) == 28
    millions = {n for n, v in villages.items() if totals[v.pk, 2022] >= 1000000}
    assert 2 <= len(millions) <= 3 and value("economy.million_villages", "2022") == len(millions)
    assert WLNE in {villages[n].code for n in millions}


def test_the_two_demonstration_villages_are_designated_for_2022():
    designated = {d.village.code: d for d in TierDesignation.objects.filter(year=2022).select_related("village")}
    for code in (WLNE, NLXL):
        assert designated[code].tier == Tier.DEMONSTRATION and designated[code].reason == "市级一村一品示范嘎查村"


def test_five_villages_forecast_over_a_million_nalinxili_among_them(town, villages):
    assert value("economy.forecast_million_villages", "2023-06-30") == 5
    expected = {f.village.code for f in forecast.expected_million(town, 2023, datetime.date(2023, 6, 30))}
    assert NLXL in expected and len(expected) == 5
    # the method by hand: YTD through June ÷ the share of 2022 earned by June
    totals = operating_by_village_year()
    by_hand = {v.code for v in villages.values()
               if operating_through(v.pk, 2023, 6) * totals[v.pk, 2022] / operating_through(v.pk, 2022, 6) >= 1000000}
    assert by_hand == expected


def test_the_2022_backtest_is_close():
    town = Region.objects.get(code=TOWN)
    result = forecast.backtest(town, 2022, 6)
    assert result.mean_abs_pct_error is not None and result.mean_abs_pct_error <= 10
    assert result.million_hits == result.million_actual


# --------------------------------------------------------------------------- pooled enclave projects


def test_pools_join_seven_villages_never_both_matrix_villages():
    assert value("economy.pooled_villages", "2023-06-30") == 7
    pools = list(PooledProject.objects.filter(project__is_base=True).select_related("host", "project")
                 .prefetch_related("shares__village"))
    assert len(pools) == 2  # the donkey bases' pools; a third (2023, no run yet) pools villages among these
    villages = [s.village.code for p in pools for s in p.shares.all()]
    assert len(villages) == len(set(villages)) == 7
    assert set(PoolShare.objects.values_list("village__code", flat=True)) == set(villages)
    assert not PooledProject.objects.filter(shares__village__code=WLNE).filter(shares__village__code=NLXL).exists()
    hosts = {p.host.code: p for p in pools}
    assert set(hosts) == {WLNE, NLXL}
    assert len(hosts[WLNE].shares.all()) == 4 and len(hosts[NLXL].shares.all()) == 3
    for pool in pools:
        codes = {s.village.code for s in pool.shares.all()}
        assert pool.host.code in codes and not {WLNE, NLXL} <= codes
        assert pool.total_capital == sum(s.capital for s in pool.shares.all())
        assert pool.project.is_base and pool.project.village_id == pool.host_id
    assert sum(1 for p in pools if p.guaranteed_rate) == 1 and sum(1 for p in pools if p.retained_percent) == 1


def test_dividends_add_over_1_8_million_in_2022():
    added = value("economy.pooled_income_added", "2022")
    assert added == value("economy.pooled_income_added", "2023-06-30")
    assert added >= 1800000
    posted = IncomeEntry.objects.filter(allocation__run__year=2022, allocation__run__pool__isnull=False)
    assert sum(e.amount for e in posted) == added
    assert {(e.category, e.month) for e in posted} == {("investment", datetime.date(2022, 12, 1))}
    assert sum((r.payout for r in DividendRun.objects.filter(year=2022)), Decimal(0)) == added


def test_runs_for_2021_and_2022_one_reversed_and_run_again():
    assert set(DividendRun.objects.values_list("year", flat=True)) == {2021, 2022}
    reversed_runs = DividendRun.objects.filter(status=DividendRun.Status.REVERSED)
    assert reversed_runs.count() == 1
    original = reversed_runs.get()
    assert original.year == 2021 and original.reversal.payout == -original.payout
    assert DividendRun.objects.filter(pool=original.pool, year=2021, status=DividendRun.Status.POSTED,
                                      reverses__isnull=True).count() == 1
    for run in DividendRun.objects.filter(status__in=["posted", "reversed"]):
        allocations = list(run.allocations.select_related("entry"))
        assert sum(a.amount for a in allocations) == run.payout
        assert all(a.entry.amount == a.amount for a in allocations)


# --------------------------------------------------------------------------- pairings and enterprises


def test_seven_weak_villages_paired(villages):
    assert value("economy.paired_weak_villages", "2023-06-30") == 7
    pairings = list(VillagePairing.objects.select_related("strong", "weak"))
    weak = {p.weak.short_name for p in pairings}
    assert len(weak) == 7 and {"昌车渠村", "乌兰敖包村"} <= weak
    strong = {p.strong.short_name if p.strong else None for p in pairings}
    assert strong == {"乌兰淖尔村", "巴音布拉格村", "纳林希里村", None}
    cross = [p for p in pairings if p.strong is None]
    assert cross and all(p.strong_name and p.is_cross_town for p in cross)
    assert not (weak & {"乌兰淖尔村", "纳林希里村"})
    assert all(p.measures and p.start_date.year in (2021, 2022) and p.is_demo for p in pairings)
    totals = operating_by_village_year()
    assert all(totals[villages[n].pk, 2021] < 100000 for n in weak)  # they were 薄弱村 when paired


def test_enterprises_and_their_results():
    from stdnum.cn import uscc

    mengtai = Enterprise.objects.get(name="蒙泰集团")
    assert mengtai.credit_code is None and mengtai.town.code == TOWN
    invented = Enterprise.objects.exclude(pk=mengtai.pk)
    assert 2 <= invented.count() <= 3
    assert all("演示" in e.note and uscc.is_valid(e.credit_code) and e.town.code == TOWN for e in invented)
    partners = {e.name: set(e.partnerships.values_list("village__code", flat=True)) for e in Enterprise.objects.all()}
    assert NLXL in partners["蒙泰集团"] and WLNE not in partners["蒙泰集团"] and len(partners["蒙泰集团"]) >= 3
    assert any(WLNE in codes and NLXL not in codes for name, codes in partners.items() if name != "蒙泰集团")
    mine = PartnershipYear.objects.filter(partnership__enterprise=mengtai)
    assert set(mine.values_list("year", flat=True)) == {2021, 2022, 2023}
    assert sum(r.produce_sales for r in mine) >= 10000000
    assert sum(r.jobs for r in mine) >= 500
    assert sum(r.collective_income for r in mine if r.year == 2022) >= 500000
    assert value("economy.enterprise_sales", "2023-06-30") >= 10000000
    assert value("economy.enterprise_jobs", "2023-06-30") >= 500
    assert value("economy.enterprise_collective_income", "2023-06-30") >= 500000


def test_joint_meetings_never_seat_both_matrix_villages():
    meetings = [set(m.villages.values_list("code", flat=True)) for m in JointMeeting.objects.all()]
    assert 3 <= len(meetings) <= 4
    assert any(WLNE in m and NLXL not in m for m in meetings)
    assert any(NLXL in m and WLNE not in m for m in meetings)
    assert not any({WLNE, NLXL} <= m for m in meetings)


# --------------------------------------------------------------------------- scope, flags, the command


@pytest.mark.parametrize("model", ECONOMY_MODELS, ids=lambda m: m._meta.label)
def test_every_economy_model_has_rows_in_both_villages_and_shares_none(model):
    wlne, nlxl = Region.objects.get(code=WLNE), Region.objects.get(code=NLXL)
    mine, theirs = testing.under(model, wlne), testing.under(model, nlxl)
    assert mine.exists() and theirs.exists(), model
    assert not mine.filter(pk__in=theirs.values("pk")).exists(), model


def test_records_name_only_their_own_matrix_village():
    """What 乌兰淖尔's secretary can see never names 纳林希里 (its name or code), and the reverse."""
    pairs = [(Region.objects.get(code=WLNE), Region.objects.get(code=NLXL)),
             (Region.objects.get(code=NLXL), Region.objects.get(code=WLNE))]
    for own, other in pairs:
        for model in ECONOMY_MODELS:
            for row in testing.under(model, own):
                text = " ".join(str(getattr(row, f.attname)) for f in row._meta.concrete_fields)
                assert other.short_name not in text and other.code not in text, (model, row.pk)


def test_every_economy_row_is_demo():
    for model in (Project, ProjectParty, IncomeEntry, TierDesignation, PooledProject, PoolShare, DividendRun,
                  VillagePairing, Enterprise, Partnership, PartnershipYear, JointMeeting):
        assert model.objects.exists() and not model.objects.filter(is_demo=False).exists(), model


def test_metrics_command_prints_the_economy_figures():
    out = io.StringIO()
    call_command("metrics", "--region", TOWN, "--asof", "2023-06-30", "--format", "json", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["economy.projects"] == 63
    assert figures["economy.breeding_bases"] == 4
    assert figures["economy.pooled_villages"] == 7
    assert figures["economy.paired_weak_villages"] == 7
    assert figures["economy.forecast_million_villages"] == 5
    assert Decimal(figures["economy.pooled_income_added"]) >= 1800000
    assert Decimal(figures["economy.enterprise_sales"]) >= 10000000
    out = io.StringIO()
    call_command("metrics", "--region", TOWN, "--period", "2022", "--format", "json", stdout=out)
    assert Decimal(json.loads(out.getvalue())["economy.operating_income"]) == Decimal("16392700.00")


def test_the_step_is_idempotent():
    from yiwang.demo.steps.economy import load_economy

    def counts():
        return {m._meta.label: m._default_manager.count() for m in ECONOMY_MODELS + [Zone, AuditEntry]}

    before = counts()
    logged = []
    load_economy(DemoContext(log=logged.append))
    assert counts() == before and logged == ["集体经济：已存在，跳过"]
