"""Audit cases of the collective-economy actions (loaded by tests/test_audit.py): each done directly as a
user allowed to (town_admin, or wlne_secretary for 乌兰淖尔's own records) with the client's IP set as the
middleware does, each refused for 纳林希里's secretary on a 乌兰淖尔 record (or for a village cadre where
the town's 经管站 must act), changing nothing. Targets a refusal needs are made first as the system
(``prepare``), outside the comparison. Years 2019 and earlier are ours: the demo's ledger is later."""
import pytest
from test_audit import DIRECT_IP, NLXL, WLNE, Expect, region

from yiwang.core.context import request_context
from yiwang.core.errors import PermissionRefused
from yiwang.economy import actions
from yiwang.economy.models import (
    DividendAllocation, DividendRun, Enterprise, IncomeEntry, JointMeeting, Partnership, PartnershipYear,
    PooledProject, PoolShare, Project, ProjectParty, TierDesignation, VillagePairing, Zone,
)

TOWN = "150627105"
HELPERS = {
    "yiwang.economy.actions.clean_month": "parses a month (2023-05, 2023年5月) into its first day; pure function",
    "yiwang.economy.actions.live_entries": "the ledger entries that stand (neither reversed nor reversals); reads only",
    "yiwang.economy.actions.effective_runs": "the dividend runs that count for a pool-year; reads only",
    "yiwang.economy.actions.preview_dividend": "what a run would allocate, shown before proposing; writes nothing",
}


def state():
    return {
        "economy_zones": list(Zone.objects.order_by("pk").values_list("pk", "name", "kind")),
        "economy_projects": list(Project.objects.order_by("pk").values_list("pk", "name", "status", "updated_at")),
        "economy_parties": list(ProjectParty.objects.order_by("pk").values_list("pk", "name", "amount")),
        "economy_entries": list(IncomeEntry.objects.order_by("pk").values_list(
            "pk", "amount", "reverses_id", "reviewed_at")),
        "economy_designations": list(TierDesignation.objects.order_by("pk").values_list("pk", "year", "tier")),
        "economy_pools": list(PooledProject.objects.order_by("pk").values_list("pk", "total_capital")),
        "economy_shares": list(PoolShare.objects.order_by("pk").values_list("pk", "capital")),
        "economy_runs": list(DividendRun.objects.order_by("pk").values_list("pk", "status", "approved_at")),
        "economy_allocations": list(DividendAllocation.objects.order_by("pk").values_list("pk", "amount", "entry_id")),
        "economy_pairings": list(VillagePairing.objects.order_by("pk").values_list("pk", "measures", "end_date")),
        "economy_enterprises": list(Enterprise.objects.order_by("pk").values_list("pk", "name")),
        "economy_partnerships": list(Partnership.objects.order_by("pk").values_list("pk", "village_id")),
        "economy_partnership_years": list(PartnershipYear.objects.order_by("pk").values_list(
            "pk", "produce_sales", "jobs", "collective_income")),
        "economy_meetings": list(JointMeeting.objects.order_by("pk").values_list("pk", "title")),
    }


def prepared(prepare):
    """A refusal case whose target is made first (``prepare(u)``), outside test_audit's comparison."""
    def wrap(fn):
        fn.prepare = prepare
        return fn
    return wrap


def refused(call, user, obj=None, *, action):
    """Run ``call(by)`` as ``user``; it must be refused. Returns the Expect of the refusal."""
    with request_context(ip=DIRECT_IP), pytest.raises(PermissionRefused):
        call(user)
    return Expect(f"economy.{action}", obj, user, ip=DIRECT_IP, allowed=False)


# --------------------------------------------------------------------------- targets, made by the system


def _project(u=None):
    return actions.create_project(village=region(WLNE), code="AUDIT-ECO-P1", name="审计测试项目", kind="breeding",
                                  start_date="2019-01-01", by=None)


def _entry(u=None):
    return actions.record_income(village=region(WLNE), month="2019-03", category="operating", amount="1000.00",
                                 source_document="审计-001", by=None)


def _pool(u=None, *, code="AUDIT-POOL"):
    pool = actions.create_pool(code=code, name="审计抱团项目", host=region(WLNE), start_date="2019-01-01",
                               total_capital="300.00", by=None)
    actions.add_pool_share(pool, village=region(WLNE), capital="100.00", joined_on="2019-01-01", by=None)
    actions.add_pool_share(pool, village=region(NLXL), capital="200.00", joined_on="2019-01-01", by=None)
    return pool


def _draft(u=None):
    return actions.propose_dividend_run(_pool(), year=2019, distributable="90.00", by=None)


def _posted(u=None):
    return actions.approve_dividend_run(_draft(), by=None)


def _pairing(u=None):
    return actions.create_pairing(weak=region(WLNE), strong_name="审计外镇村", measures="审计帮带",
                                  start_date="2019-01-01", by=None)


def _enterprise(u=None):
    return actions.create_enterprise(name="审计测试企业", town=region(TOWN), by=None)


def _partnership(u=None):
    return actions.add_partnership(_enterprise(), village=region(WLNE), start_date="2019-01-01", by=None)


# --------------------------------------------------------------------------- the cases


def zone_done(u):
    with request_context(ip=DIRECT_IP):
        zone = actions.create_zone(town=region(TOWN), name="审计产业园", kind="park", by=u("town_admin"))
    return Expect("economy.create_zone", zone, u("town_admin"), {"name": [None, "审计产业园"], "kind": [None, "park"]},
                  DIRECT_IP)


def zone_refused(u):
    return refused(lambda by: actions.create_zone(town=region(TOWN), name="越权园", kind="park", by=by),
                   u("wlne_secretary"), action="create_zone")


def project_done(u):
    with request_context(ip=DIRECT_IP):
        project = actions.create_project(village=region(WLNE), code="AUDIT-ECO-P2", name="审计新项目",
                                         kind="planting", start_date="2019-04-01", by=u("wlne_secretary"))
    return Expect("economy.create_project", project, u("wlne_secretary"),
                  {"code": [None, "AUDIT-ECO-P2"], "name": [None, "审计新项目"], "village": [None, str(region(WLNE).pk)]},
                  DIRECT_IP)


def project_refused(u):
    return refused(lambda by: actions.create_project(village=region(WLNE), code="AUDIT-ECO-X", name="越权项目",
                                                     kind="planting", start_date="2019-04-01", by=by),
                   u("nlxl_secretary"), action="create_project")


def update_project_done(u):
    project = _project()
    with request_context(ip=DIRECT_IP):
        actions.update_project(project, name="审计改名项目", status="suspended", by=u("wlne_secretary"))
    return Expect("economy.update_project", project, u("wlne_secretary"),
                  {"name": ["审计测试项目", "审计改名项目"], "status": ["operating", "suspended"]}, DIRECT_IP)


@prepared(_project)
def update_project_refused(u, project):
    return refused(lambda by: actions.update_project(project, name="越权改名", by=by),
                   u("nlxl_secretary"), project, action="update_project")


def party_done(u):
    project = _project()
    with request_context(ip=DIRECT_IP):
        party = actions.add_project_party(project, role="insurer", name="审计保险公司", insured_heads=120,
                                          by=u("wlne_secretary"))
    return Expect("economy.add_project_party", party, u("wlne_secretary"),
                  {"role": [None, "insurer"], "name": [None, "审计保险公司"]}, DIRECT_IP)


@prepared(_project)
def party_refused(u, project):
    return refused(lambda by: actions.add_project_party(project, role="bank", name="越权银行", by=by),
                   u("nlxl_secretary"), project, action="add_project_party")


def income_done(u):
    with request_context(ip=DIRECT_IP):
        entry = actions.record_income(village=region(WLNE), month="2019-05", category="contract", amount="2500.50",
                                      by=u("wlne_secretary"))
    return Expect("economy.record_income", entry, u("wlne_secretary"),
                  {"amount": [None, "2500.50"], "month": [None, "2019-05-01"], "category": [None, "contract"]},
                  DIRECT_IP)


def income_refused(u):
    return refused(lambda by: actions.record_income(village=region(WLNE), month="2019-05", category="contract",
                                                    amount="2500.50", by=by),
                   u("nlxl_secretary"), action="record_income")


def reverse_done(u):
    entry = _entry()
    with request_context(ip=DIRECT_IP):
        reversal = actions.reverse_entry(entry, reason="审计冲销", by=u("wlne_secretary"))
    return Expect("economy.reverse_entry", reversal, u("wlne_secretary"),
                  {"reverses": [None, str(entry.pk)], "amount": [None, "-1000.00"]}, DIRECT_IP)


@prepared(_entry)
def reverse_refused(u, entry):
    return refused(lambda by: actions.reverse_entry(entry, reason="越权冲销", by=by),
                   u("nlxl_secretary"), entry, action="reverse_entry")


def correct_done(u):
    entry = _entry()
    with request_context(ip=DIRECT_IP):
        new = actions.correct_entry(entry, amount="900.00", reason="审计更正", by=u("wlne_secretary"))
    return Expect("economy.correct_entry", new, u("wlne_secretary"),
                  {"corrects": [None, str(entry.pk)], "amount": ["1000.00", "900.00"]}, DIRECT_IP)


@prepared(_entry)
def correct_refused(u, entry):
    return refused(lambda by: actions.correct_entry(entry, amount="1.00", reason="越权更正", by=by),
                   u("nlxl_secretary"), entry, action="correct_entry")


def review_done(u):
    entry = _entry()
    with request_context(ip=DIRECT_IP):
        actions.review_entry(entry, by=u("town_admin"))
    return Expect("economy.review_entry", entry, u("town_admin"), ip=DIRECT_IP)


@prepared(_entry)
def review_refused(u, entry):
    # the village enters its ledger; reviewing is the town's 经管站 (economy.approve)
    return refused(lambda by: actions.review_entry(entry, by=by), u("wlne_secretary"), entry, action="review_entry")


def designate_done(u):
    with request_context(ip=DIRECT_IP):
        actions.designate_tier(region(WLNE), year=2018, tier="demonstration", reason="审计认定", by=u("town_admin"))
    return Expect("economy.designate_tier", region(WLNE), u("town_admin"), {"tier_2018": [None, "demonstration"]},
                  DIRECT_IP)


def designate_refused(u):
    return refused(lambda by: actions.designate_tier(region(WLNE), year=2018, tier="demonstration", reason="自评",
                                                     by=by), u("wlne_secretary"), region(WLNE), action="designate_tier")


def pool_done(u):
    with request_context(ip=DIRECT_IP):
        pool = actions.create_pool(code="AUDIT-POOL-2", name="审计新抱团", host=region(WLNE), start_date="2019-01-01",
                                   total_capital="5000.00", retained_percent="5", by=u("wlne_secretary"))
    return Expect("economy.create_pool", pool, u("wlne_secretary"),
                  {"code": [None, "AUDIT-POOL-2"], "total_capital": [None, "5000.00"]}, DIRECT_IP)


def pool_refused(u):
    return refused(lambda by: actions.create_pool(code="AUDIT-POOL-X", name="越权抱团", host=region(WLNE),
                                                  start_date="2019-01-01", total_capital="5000.00", by=by),
                   u("nlxl_secretary"), action="create_pool")


def _empty_pool(u=None):
    return actions.create_pool(code="AUDIT-POOL-E", name="审计空抱团", host=region(WLNE), start_date="2019-01-01",
                               total_capital="300.00", by=None)


def share_done(u):
    pool = _empty_pool()
    with request_context(ip=DIRECT_IP):
        share = actions.add_pool_share(pool, village=region(WLNE), capital="100.00", joined_on="2019-01-01",
                                       by=u("wlne_secretary"))
    return Expect("economy.add_pool_share", share, u("wlne_secretary"),
                  {"village": [None, WLNE], "capital": [None, "100.00"]}, DIRECT_IP)


@prepared(_empty_pool)
def share_refused(u, pool):
    # 纳林希里 may put its own capital in, but not into a pool hosted by 乌兰淖尔 without the host
    return refused(lambda by: actions.add_pool_share(pool, village=region(NLXL), capital="100.00",
                                                     joined_on="2019-01-01", by=by),
                   u("nlxl_secretary"), pool, action="add_pool_share")


def propose_done(u):
    pool = _pool()
    with request_context(ip=DIRECT_IP):
        run = actions.propose_dividend_run(pool, year=2019, distributable="90.00", by=u("town_admin"))
    return Expect("economy.propose_dividend_run", run, u("town_admin"),
                  {"year": [None, 2019], "distributable": [None, "90.00"], "payout": [None, "90.00"],
                   "parts": [None, 2]}, DIRECT_IP)


@prepared(_pool)
def propose_refused(u, pool):
    # a participant alone may not propose the pool's dividend: the host and every participant are in it
    return refused(lambda by: actions.propose_dividend_run(pool, year=2019, distributable="90.00", by=by),
                   u("nlxl_secretary"), pool, action="propose_dividend_run")


def approve_done(u):
    run = _draft()
    with request_context(ip=DIRECT_IP):
        actions.approve_dividend_run(run, by=u("town_admin"))
    return Expect("economy.approve_dividend_run", run, u("town_admin"),
                  {"status": ["draft", "posted"], "payout": [None, "90.00"]}, DIRECT_IP)


@prepared(_draft)
def approve_refused(u, run):
    return refused(lambda by: actions.approve_dividend_run(run, by=by),
                   u("wlne_secretary"), run, action="approve_dividend_run")


def reverse_run_done(u):
    run = _posted()
    with request_context(ip=DIRECT_IP):
        actions.reverse_dividend_run(run, reason="审计冲销分红", by=u("town_admin"))
    return Expect("economy.reverse_dividend_run", run, u("town_admin"), {"status": ["posted", "reversed"]}, DIRECT_IP)


@prepared(_posted)
def reverse_run_refused(u, run):
    return refused(lambda by: actions.reverse_dividend_run(run, reason="越权冲销", by=by),
                   u("wlne_secretary"), run, action="reverse_dividend_run")


def pairing_done(u):
    with request_context(ip=DIRECT_IP):
        pairing = actions.create_pairing(weak=region(WLNE), strong_name="审计帮带村", measures="产业帮带",
                                         start_date="2019-02-01", by=u("wlne_secretary"))
    return Expect("economy.create_pairing", pairing, u("wlne_secretary"),
                  {"strong_name": [None, "审计帮带村"], "measures": [None, "产业帮带"]}, DIRECT_IP)


def pairing_refused(u):
    return refused(lambda by: actions.create_pairing(weak=region(WLNE), strong_name="越权村", measures="越权",
                                                     start_date="2019-02-01", by=by),
                   u("nlxl_secretary"), action="create_pairing")


def update_pairing_done(u):
    pairing = _pairing()
    with request_context(ip=DIRECT_IP):
        actions.update_pairing(pairing, measures="审计新措施", end_date="2019-12-31", by=u("wlne_secretary"))
    return Expect("economy.update_pairing", pairing, u("wlne_secretary"),
                  {"measures": ["审计帮带", "审计新措施"], "end_date": [None, "2019-12-31"]}, DIRECT_IP)


@prepared(_pairing)
def update_pairing_refused(u, pairing):
    return refused(lambda by: actions.update_pairing(pairing, measures="越权", by=by),
                   u("nlxl_secretary"), pairing, action="update_pairing")


def enterprise_done(u):
    with request_context(ip=DIRECT_IP):
        enterprise = actions.create_enterprise(name="审计新企业", town=region(TOWN), industry="食品加工",
                                               by=u("town_admin"))
    return Expect("economy.create_enterprise", enterprise, u("town_admin"),
                  {"name": [None, "审计新企业"], "town": [None, TOWN]}, DIRECT_IP)


def enterprise_refused(u):
    return refused(lambda by: actions.create_enterprise(name="越权企业", town=region(TOWN), by=by),
                   u("wlne_secretary"), action="create_enterprise")


def partnership_done(u):
    enterprise = _enterprise()
    with request_context(ip=DIRECT_IP):
        partnership = actions.add_partnership(enterprise, village=region(WLNE), start_date="2019-03-01",
                                              investment="80000.00", by=u("wlne_secretary"))
    return Expect("economy.add_partnership", partnership, u("wlne_secretary"),
                  {"village": [None, WLNE], "investment": [None, "80000.00"]}, DIRECT_IP)


@prepared(_enterprise)
def partnership_refused(u, enterprise):
    return refused(lambda by: actions.add_partnership(enterprise, village=region(WLNE), start_date="2019-03-01",
                                                      by=by), u("nlxl_secretary"), enterprise, action="add_partnership")


def partnership_year_done(u):
    partnership = _partnership()
    with request_context(ip=DIRECT_IP):
        row = actions.record_partnership_year(partnership, year=2019, produce_sales="120000.00", jobs=35,
                                              collective_income="50000.00", by=u("wlne_secretary"))
    return Expect("economy.record_partnership_year", row, u("wlne_secretary"),
                  {"year": [None, 2019], "produce_sales": [None, "120000.00"], "jobs": [None, 35]}, DIRECT_IP)


@prepared(_partnership)
def partnership_year_refused(u, partnership):
    return refused(lambda by: actions.record_partnership_year(partnership, year=2019, jobs=1, by=by),
                   u("nlxl_secretary"), partnership, action="record_partnership_year")


def meeting_done(u):
    with request_context(ip=DIRECT_IP):
        meeting = actions.record_meeting(town=region(TOWN), date="2019-06-01", title="审计联席会议",
                                         villages=[region(WLNE), region(NLXL)], by=u("town_admin"))
    return Expect("economy.record_meeting", meeting, u("town_admin"),
                  {"title": [None, "审计联席会议"], "villages": [None, sorted([WLNE, NLXL])]}, DIRECT_IP)


def meeting_refused(u):
    return refused(lambda by: actions.record_meeting(town=region(TOWN), date="2019-06-01", title="越权会议", by=by),
                   u("wlne_secretary"), action="record_meeting")


CASES = {
    f"yiwang.economy.actions.{name}": pair for name, pair in {
        "create_zone": (zone_done, zone_refused),
        "create_project": (project_done, project_refused),
        "update_project": (update_project_done, update_project_refused),
        "add_project_party": (party_done, party_refused),
        "record_income": (income_done, income_refused),
        "reverse_entry": (reverse_done, reverse_refused),
        "correct_entry": (correct_done, correct_refused),
        "review_entry": (review_done, review_refused),
        "designate_tier": (designate_done, designate_refused),
        "create_pool": (pool_done, pool_refused),
        "add_pool_share": (share_done, share_refused),
        "propose_dividend_run": (propose_done, propose_refused),
        "approve_dividend_run": (approve_done, approve_refused),
        "reverse_dividend_run": (reverse_run_done, reverse_run_refused),
        "create_pairing": (pairing_done, pairing_refused),
        "update_pairing": (update_pairing_done, update_pairing_refused),
        "create_enterprise": (enterprise_done, enterprise_refused),
        "add_partnership": (partnership_done, partnership_refused),
        "record_partnership_year": (partnership_year_done, partnership_year_refused),
        "record_meeting": (meeting_done, meeting_refused),
    }.items()
}
