"""Roles and what each grants (三员分立: system, security and audit administrators are separate).

A permission is ``<module>.<action>``. A role assignment = role + region (+ module for town staff);
the grant holds in that region's subtree. ``pii.reveal`` lets a user see a full ID number or phone,
each reading audited. ``people.tags`` maintains the special-group tag list (低保户, 残疾人, ...): reference
data shared by the whole system, not a record of any village, so it is held by the system administrator
and by town staff of the people module, never by village cadres (a village renaming 低保户 would rename
it for every village). Business modules are listed in ``MODULES``; later modules add their names.
"""
from django.db import models

MODULES = ["people", "grid", "cases", "party", "talent", "economy", "conduct", "insights"]


class Role(models.TextChoices):
    SYSADMIN = "sysadmin", "系统管理员"
    SECADMIN = "secadmin", "安全管理员"
    AUDITOR = "auditor", "审计员"
    BANNER_VIEWER = "banner_viewer", "旗级领导（查看）"
    TOWN_LEADER = "town_leader", "镇领导"
    TOWN_STAFF = "town_staff", "镇工作人员"
    VILLAGE_CADRE = "village_cadre", "村两委干部"
    GRID_WORKER = "grid_worker", "网格员"
    RESIDENT = "resident", "居民"


def _view_all():
    return {f"{m}.view" for m in MODULES} | {"areas.view", "metrics.view"}


def _edit(*modules):
    return {f"{m}.{a}" for m in modules for a in ("view", "change")}


ROLE_PERMS: dict[str, set[str]] = {
    Role.SYSADMIN: {"areas.view", "areas.change", "areas.manage", "accounts.view", "accounts.manage", "people.tags",
                    "cases.policy"},
    Role.SECADMIN: {"areas.view", "accounts.view", "accounts.assign", "accounts.unlock"},
    Role.AUDITOR: {"areas.view", "audit.view"},
    Role.BANNER_VIEWER: _view_all(),
    Role.TOWN_LEADER: _view_all() | {"cases.supervise"},
    # town staff get their module's edit rights (the assignment's module); see perms_for()
    Role.TOWN_STAFF: {"areas.view", "metrics.view"},
    Role.VILLAGE_CADRE: _view_all() | _edit("people", "grid", "cases", "party", "economy", "conduct", "talent")
    | {"areas.change", "pii.reveal", "cases.report"},
    Role.GRID_WORKER: {"areas.view", "people.view", "people.change", "grid.view", "grid.change", "cases.view",
                       "cases.change", "cases.report", "metrics.view", "pii.reveal"},
    Role.RESIDENT: {"cases.report"},
}


def perms_for(role: str, module: str = "") -> set[str]:
    perms = set(ROLE_PERMS.get(role, set()))
    if role == Role.TOWN_STAFF:
        modules = MODULES if module in ("", "all") else [module]
        perms |= _edit(*modules) | {f"{m}.view" for m in MODULES} | {"areas.change"}
        if "cases" in modules:
            perms |= {"cases.supervise", "cases.policy", "cases.report", "pii.reveal"}
        if "people" in modules:
            perms |= {"pii.reveal", "people.tags"}
        if "economy" in modules:
            # the town's 经管站 reviews ledger entries, designates tiers and approves dividend runs
            perms |= {"economy.approve"}
    return perms
