"""Figures of the collective economy for a region and period, each with the records behind it.

Periods: a full year (``2022``) is that year. Sums over a period (operating income, pooled income,
enterprise results) take the entries whose month or year lies in it; for an as-of period they take the
calendar year to date (operating income) or everything up to the date (enterprise results, which the
article counts cumulatively: 累计帮销). Tier figures need a finished year: the period's own year when
it ends on 31 December, else the year before (as of 2023-06-30 the tiers are 2022's). The forecast
is as of the period's end (``economy.forecast``).
"""
import datetime

from django.db.models import Q, Sum

from yiwang.insights.registry import metric

from . import forecast, ledger, tiers
from .models import DividendAllocation, PartnershipYear, PoolShare, Project, Tier, VillagePairing


def tier_year(period) -> int:
    end = period.end
    return end.year if (end.month, end.day) == (12, 31) else end.year - 1


def _ledger_span(period):
    start = period.start if period.start is not None else datetime.date(period.end.year, 1, 1)
    return start, period.end


def project_records(region, period):
    end = period.end
    return (Project.objects.under(region).filter(start_date__lte=end)
            .filter(Q(end_date__isnull=True) | Q(end_date__gt=end)).exclude(status=Project.Status.ENDED))


def base_records(region, period):
    return project_records(region, period).filter(kind=Project.Kind.BREEDING, is_base=True)


def operating_records(region, period):
    start, end = _ledger_span(period)
    return ledger.entries_in(region, start, end, operating_only=True)


def pooled_share_records(region, period):
    return PoolShare.objects.filter(region_path__startswith=region.path, joined_on__lte=period.end)


def pooled_income_records(region, period):
    """The parts posted for the tier year's dividends (reversing runs included, so a reversal nets out)."""
    return DividendAllocation.objects.filter(region_path__startswith=region.path, run__year=tier_year(period),
                                             run__status__in=["posted", "reversed"])


def paired_records(region, period):
    end = period.end
    return (VillagePairing.objects.filter(region_path__startswith=region.path, start_date__lte=end)
            .filter(Q(end_date__isnull=True) | Q(end_date__gt=end)))


def partnership_year_records(region, period):
    qs = PartnershipYear.objects.filter(partnership__region_path__startswith=region.path, year__lte=period.end.year)
    return qs.filter(year__gte=period.start.year) if period.start is not None else qs


@metric("economy.projects", label="集体经济项目", label_en="Collective projects", unit="个", records=project_records,
        order=1)
def projects(region, period):
    """Projects started by the period's end and not ended then."""
    return project_records(region, period).count()


@metric("economy.operating_income", label="经营性收入", label_en="Operating income", unit="元",
        records=operating_records, order=2)
def operating_income(region, period):
    return ledger.total(operating_records(region, period))


@metric("economy.villages_by_tier", label="各等级村数", label_en="Villages by tier", unit="个", order=3,
        parts={tier.value: tier.label for tier in Tier})
def villages_by_tier(region, period):
    return tiers.counts(region, tier_year(period))


@metric("economy.million_villages", label="百万村", label_en="Villages over 1M yuan", unit="个", order=4)
def million_villages(region, period):
    return sum(1 for t in tiers.tiers_for(region, tier_year(period)) if t.is_million)


@metric("economy.forecast_million_villages", label="预计突破百万村", label_en="Villages forecast over 1M yuan",
        unit="个", order=5)
def forecast_million_villages(region, period):
    return len(forecast.expected_million(region, period.end.year, period.end))


@metric("economy.breeding_bases", label="规模化养殖基地", label_en="Scaled breeding bases", unit="处",
        records=base_records, order=6)
def breeding_bases(region, period):
    return base_records(region, period).count()


@metric("economy.pooled_villages", label="飞地抱团参与村", label_en="Villages in pooled projects", unit="个",
        records=pooled_share_records, order=7)
def pooled_villages(region, period):
    return pooled_share_records(region, period).values("village").distinct().count()


@metric("economy.pooled_income_added", label="抱团分红增收", label_en="Income added by pooled projects", unit="元",
        records=pooled_income_records, order=8)
def pooled_income_added(region, period):
    return ledger.total(pooled_income_records(region, period))


@metric("economy.paired_weak_villages", label="强村带弱村受帮村", label_en="Weak villages paired", unit="个",
        records=paired_records, order=9)
def paired_weak_villages(region, period):
    return paired_records(region, period).values("weak").distinct().count()


@metric("economy.enterprise_sales", label="企业帮销农特产品", label_en="Produce sold by enterprises", unit="元",
        records=partnership_year_records, order=10)
def enterprise_sales(region, period):
    return ledger.total(partnership_year_records(region, period), "produce_sales")


@metric("economy.enterprise_jobs", label="企业帮助就业", label_en="Jobs given by enterprises", unit="人次",
        records=partnership_year_records, order=11)
def enterprise_jobs(region, period):
    return partnership_year_records(region, period).aggregate(s=Sum("jobs"))["s"] or 0


@metric("economy.enterprise_collective_income", label="企业带动村集体收入", label_en="Collective income from enterprises",
        unit="元", records=partnership_year_records, order=12)
def enterprise_collective_income(region, period):
    """For the tier year (a yearly figure: 年收入)."""
    year = tier_year(period)
    qs = PartnershipYear.objects.filter(partnership__region_path__startswith=region.path, year=year)
    return ledger.total(qs, "collective_income")
