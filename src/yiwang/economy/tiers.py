"""Village tiers (示范村 / 一般村 / 薄弱村) and the 百万村 flag, derived from the ledger each time.

A village's tier for a year comes from its operating income that year (``economy.ledger``) against
the thresholds of the setting ``ECONOMY_TIERS`` (defaults: 薄弱村 below 100,000 元, 示范村 from
500,000 元, 一般村 between; 百万村 from 1,000,000 元), unless the town designated the tier for that
year by policy (``TierDesignation``), which then wins and is shown as such. Nothing is stored but
the designations, so a late entry or a reversal moves the tier at once.
"""
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from yiwang.areas.models import Region

from . import ledger
from .models import Tier, TierDesignation

DEFAULT_TIERS = {"weak_below": "100000", "demonstration_from": "500000", "million_from": "1000000"}


def thresholds() -> dict:
    conf = {**DEFAULT_TIERS, **getattr(settings, "ECONOMY_TIERS", {})}
    return {k: Decimal(str(v)) for k, v in conf.items()}


def computed_tier(income: Decimal) -> str:
    t = thresholds()
    if income < t["weak_below"]:
        return Tier.WEAK
    if income >= t["demonstration_from"]:
        return Tier.DEMONSTRATION
    return Tier.ORDINARY


@dataclass
class VillageTier:
    village: Region
    year: int
    income: Decimal
    computed: str
    designated: str | None
    reason: str = ""

    @property
    def tier(self) -> str:
        return self.designated or self.computed

    @property
    def tier_label(self) -> str:
        return Tier(self.tier).label

    @property
    def is_million(self) -> bool:
        return self.income >= thresholds()["million_from"]


def villages_under(region):
    """The 嘎查/村 under a region (communities are not villages: they keep no collective ledger)."""
    return Region.objects.filter(path__startswith=region.path, kind=Region.Kind.VILLAGE).order_by("code")


def tiers_for(region, year, *, villages=None) -> list[VillageTier]:
    """Every village under ``region`` with its income, computed and designated tier for ``year``."""
    villages = list(villages if villages is not None else villages_under(region))
    income = ledger.operating_by_village(region, year)
    designated = {d.village_id: d for d in TierDesignation.objects.filter(village__in=villages, year=year)}
    out = []
    for v in villages:
        amount = income.get(v.pk, ledger.ZERO)
        d = designated.get(v.pk)
        out.append(VillageTier(v, year, amount, computed_tier(amount), d.tier if d else None, d.reason if d else ""))
    return out


def counts(region, year) -> dict:
    c = Counter(t.tier for t in tiers_for(region, year))
    return {tier.value: c.get(tier, 0) for tier in (Tier.DEMONSTRATION, Tier.ORDINARY, Tier.WEAK)}


def movement(region, year) -> dict:
    """The plan "打造示范村、壮大一般村、转化薄弱村" as counts: {(tier last year, tier this year): n}."""
    before = {t.village.pk: t.tier for t in tiers_for(region, year - 1)}
    now = {t.village.pk: t.tier for t in tiers_for(region, year)}
    return dict(Counter((before[v], now[v]) for v in now if v in before))
