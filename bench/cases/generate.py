"""The cases benchmark database: migrate, the demo town, then N generated cases (default 1,000,000).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yiwang_bench4 .venv/bin/python bench/cases/generate.py

The generated cases are spread over the demo town's villages and grids, the leaf categories, every
state and 2019-01-01..2023-12-31, each consistent with the rules of ``cases.actions``: deadlines fixed
at intake from the category's policy (``accept_due`` = reported + accept_hours, ``resolve_due`` =
reported + resolve_hours), accepted/resolved/closed/rated timestamps in order and present exactly for
the states that have them, the level matching the region (grid or village) or the escalation, merged
cases pointing at an earlier case of the same region, the number ``<year><id:07d>`` as ``create_case``
writes it. They are written by one PostgreSQL COPY (psycopg's ``cursor.copy``) in one transaction, not
through the actions: no timeline events, audit entries or notifications (the console list reads none
of them). All are ``is_demo=True`` (the SLA sweep skips them) and their token starts with ``bench``,
which is how a second run sees them and does nothing (idempotent: the COPY is all or nothing).

Prints one JSON line with the timings; ``--out FILE`` writes it there too when the cases were written (a
run that finds them present keeps the file of the run that wrote them). PostgreSQL only.
"""
import argparse
import datetime
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/yiwang_bench4"
TOWN_CODE = "150627105"
TOKEN_MARK = "bench"
SEED = 20190101
START = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
# (state, weight): mostly finished years ago, a backlog still open (overdue by now, all of it)
STATES = [("closed", 845), ("resolved", 30), ("rejected", 30), ("merged", 15), ("submitted", 20),
          ("accepted", 15), ("in_progress", 30), ("escalated", 15)]
CHANNELS = [("grid", 45), ("resident", 20), ("walk_in", 10), ("hotline", 15), ("inspection", 7), ("open311", 3)]
RATINGS = [("satisfied", 80), ("basic", 15), ("dissatisfied", 5)]
PROBLEMS = ["路灯不亮，夜间出行不便", "村道坑洼积水，车辆难以通行", "垃圾长期无人清运", "邻里因宅基地边界发生纠纷",
            "自来水停水已两天", "牧场围栏被破坏，牲畜走失", "河道有人倾倒建筑垃圾", "低保待遇咨询",
            "养殖异味扰民", "电线杆倾斜存在安全隐患", "草场承包纠纷", "冬季供暖不热", "公共厕所损坏",
            "流浪犬伤人隐患", "农机占道停放"]
SURNAMES = list("王李张刘杨赵高郝郭白马韩乔贺温苏呼奇乌巴朝额包宝云孟任田武")
GIVEN = list("春秋志建国军华明亮英兰梅芳霞丽娟红玉凤荣桂珍海林峰涛强平安福顺旺达成文德胜利和兴泉根宝")
COLUMNS = ["id", "number", "token", "channel", "category_id", "region_id", "region_path", "reporter_name",
           "reporter_phone_hash", "reporter_phone_cipher", "reporter_phone_suffix", "title", "description",
           "address", "latitude", "longitude", "state", "level", "department_id", "merged_into_id", "reject_reason",
           "result", "reported_at", "accept_due", "resolve_due", "accepted_at", "resolved_at", "closed_at",
           "rating", "rating_comment", "rated_at", "first_rating", "reopen_count", "supervision", "supervised_at",
           "version", "is_demo", "updated_at"]


def setup_django():
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _pick(rng, weighted):
    import bisect
    import itertools

    values, weights = zip(*weighted)
    cumulative = list(itertools.accumulate(weights))
    total, random_ = cumulative[-1], rng.random
    return lambda: values[bisect.bisect_right(cumulative, random_() * total)]


def rows(n, first_id, *, regions, categories, departments, rng):
    """Yield ``n`` case rows (tuples in COLUMNS order) with ids first_id.. ."""
    state_of, channel_of, rating_of = _pick(rng, STATES), _pick(rng, CHANNELS), _pick(rng, RATINGS)
    span = (END - START).total_seconds() - 3600  # the jitter below stays inside 2019..2023
    hour = datetime.timedelta(hours=1)
    last_in_region = {}
    now = datetime.datetime.now(datetime.timezone.utc)
    for i in range(n):
        pk = first_id + i
        region_id, region_path, is_grid = rng.choice(regions)
        category_id, accept_h, resolve_h = rng.choice(categories)
        reported = START + datetime.timedelta(seconds=int(span * i / n) + rng.randint(0, 3600))
        state = state_of()
        if state == "merged" and region_id not in last_in_region:
            state = "rejected"
        level = "grid" if is_grid else "village"
        accepted = resolved = closed = rated = merged_into = department = None
        rating = reject_reason = result = ""
        if state not in ("submitted", "rejected", "merged"):
            accepted = reported + hour * rng.uniform(0.1, accept_h * 1.2)
        if state in ("escalated",) or (state in ("in_progress", "resolved", "closed") and rng.random() < 0.08):
            level = rng.choice(("village", "town", "department")) if is_grid else rng.choice(("town", "department"))
            department = rng.choice(departments) if level == "department" else None
        if state in ("resolved", "closed"):
            resolved = accepted + hour * rng.uniform(1, resolve_h * 1.15)
            result = "已现场处理完毕，群众认可"
        if state == "closed":
            closed = resolved + datetime.timedelta(days=rng.uniform(0.5, 7))
            rating = rating_of()
            rated = closed - datetime.timedelta(hours=rng.uniform(0.1, 10))
            rated = max(rated, resolved)
        if state == "rejected":
            reject_reason = "不属于本平台受理范围，已告知群众向相关部门反映"
        if state == "merged":
            merged_into = last_in_region[region_id]
        last_in_region[region_id] = pk
        problem = rng.choice(PROBLEMS)
        has_point = rng.random() < 0.6
        yield (
            pk, f"{reported:%Y}{pk:07d}", f"{TOKEN_MARK}{rng.getrandbits(108):027x}", channel_of(), category_id,
            region_id, region_path, rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            "", "", "", problem, f"{problem}，请尽快处理。", "",
            round(39.25 + rng.random() * 0.3, 6) if has_point else None,
            round(109.55 + rng.random() * 0.4, 6) if has_point else None,
            state, level, department, merged_into, reject_reason, result,
            reported, reported + hour * accept_h, reported + hour * resolve_h, accepted, resolved, closed,
            rating, "", rated, rating, 0, "", None, 1, True, now,
        )


def generate(count, out=None):
    t0 = time.monotonic()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    call_command("migrate", "--noinput", verbosity=0)
    call_command("demo", "load", "--if-absent")
    t_demo = time.monotonic() - t0

    from yiwang.areas.models import Region
    from yiwang.cases.models import Case, Category, Department

    result = {"database": connection.settings_dict["NAME"], "requested": count}
    have = Case.objects.filter(token__startswith=TOKEN_MARK).count()
    if have:
        result.update(skipped=True, generated_present=have)
    else:
        town = Region.objects.get(code=TOWN_CODE)
        regions = [(r.pk, r.path, r.kind == Region.Kind.GRID)
                   for r in Region.objects.filter(path__startswith=town.path).exclude(pk=town.pk)
                   if r.kind == Region.Kind.GRID or r.is_village_level]
        categories = [(c.pk, c.accept_hours, c.resolve_hours)
                      for c in Category.objects.filter(active=True, children__isnull=True)]
        departments = list(Department.objects.values_list("pk", flat=True))
        rng = random.Random(SEED)
        t1 = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE cases_case IN EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence('cases_case', 'id')")
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM cases_case")
            first_id = cursor.fetchone()[0]
            with cursor.cursor.copy(f"COPY cases_case ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(count, first_id, regions=regions, categories=categories, departments=departments,
                                rng=rng):
                    copy.write_row(row)
            cursor.execute("SELECT setval(%s, %s)", [sequence, first_id + count - 1])
        t_copy = time.monotonic() - t1
        t2 = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_case")
        result.update(skipped=False, generated=count, regions=len(regions), categories=len(categories),
                      copy_seconds=round(t_copy, 1), rows_per_s=round(count / t_copy),
                      vacuum_analyze_seconds=round(time.monotonic() - t2, 1))
    result.update(migrate_and_demo_seconds=round(t_demo, 1), total_seconds=round(time.monotonic() - t0, 1),
                  cases_in_database=Case.objects.count(),
                  by_state=dict(sorted(Case.objects.order_by().values_list("state").annotate(n=Count("id")))))
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if out and not result["skipped"]:  # the figures of the run that wrote the cases are kept
        Path(out).write_text(line + "\n", encoding="utf-8")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--out", help="also write the JSON line to this file (when cases were written)")
    args = ap.parse_args()
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/cases/generate.py writes with COPY: PostgreSQL only (set DATABASE_URL)")
    generate(args.cases, args.out)


if __name__ == "__main__":
    main()
