"""Demo households and persons across the town's villages and grids, dated up to the reference day.

Sizes are fixed (per village 110–140 households, 1–6 persons each), so the town has enough households
for the grid workers' pairings that the governance module adds (3387 in the article).
"""
import datetime

from yiwang.areas.models import Region
from yiwang.core.idnumber import make_id_number
from yiwang.people import actions as people_actions
from yiwang.people.models import Household, Person, Tag

from ..names import GIVEN, MONGOLIAN, SURNAMES
from ..registry import BANNER_AREA, TOWN_CODE, demo_step


def _name(rng):
    if rng.random() < 0.15:
        return rng.choice(MONGOLIAN)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _birth(rng, lo_age, hi_age, ref):
    days = rng.randint(lo_age * 365, hi_age * 365)
    return ref - datetime.timedelta(days=days)


@demo_step(20)
def load_people(ctx):
    people_actions.ensure_default_tags()
    town = Region.objects.get(code=TOWN_CODE)
    if Household.objects.filter(is_demo=True, region_path__startswith=town.path).exists():
        ctx.log("户籍：已存在，跳过")
        return
    ref = ctx.reference_date
    tags = {t.code: t for t in Tag.objects.all()}
    used_ids = set()
    seq = 0
    villages = list(town.children.order_by("code"))
    for village in villages:
        rng = ctx.rng(f"people:{village.code}")
        grids = list(village.children.filter(kind=Region.Kind.GRID).order_by("code"))
        count = rng.randint(110, 140)
        for n in range(1, count + 1):
            grid = grids[(n - 1) % len(grids)] if grids else None
            hh_tags = [tags[c] for c in ("dibao", "tuopin", "jiance", "tekun") if rng.random() < 0.04]
            household = people_actions.create_household(
                number=f"{village.code}{n:04d}", village=village, grid=grid,
                address=f"{village.short_name}{rng.randint(1, 12)}组{rng.randint(1, 60)}号",
                registered_on=datetime.date(rng.randint(2000, 2022), rng.randint(1, 12), rng.randint(1, 28)),
                tags=hh_tags, by=None, is_demo=True)
            size = rng.choices((1, 2, 3, 4, 5, 6), weights=(8, 25, 27, 22, 12, 6))[0]
            members = [("head", 25, 80)] + [
                rng.choice((("spouse", 25, 80), ("child", 1, 40), ("child", 1, 40), ("parent", 60, 95)))
                for _ in range(size - 1)]
            for relation, lo, hi in members:
                birth = _birth(rng, lo, hi, ref)
                while True:
                    seq += 1
                    number = make_id_number(BANNER_AREA, birth, seq % 1000)
                    if number not in used_ids:
                        used_ids.add(number)
                        break
                age = (ref - birth).days // 365
                political = "masses"
                if age >= 18:
                    r = rng.random()
                    political = "member" if r < 0.12 else "probationary" if r < 0.13 else "masses"
                elif age >= 14 and rng.random() < 0.3:
                    political = "league"
                status, changed = "living", None
                r = rng.random()
                if relation != "head" and r < 0.04:
                    status, changed = "moved_out", datetime.date(rng.randint(2019, 2023), rng.randint(1, 6), 15)
                elif relation == "parent" and r < 0.10:
                    status, changed = "deceased", datetime.date(rng.randint(2019, 2023), rng.randint(1, 6), 10)
                person_tags = []
                if rng.random() < 0.03:
                    person_tags.append(tags["canji"])
                if age >= 70 and size == 1:
                    person_tags.append(tags["dujulaoren"])
                if age < 16 and rng.random() < 0.15:
                    person_tags.append(tags["liushou"])
                phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}" if age >= 16 else ""
                person = people_actions.add_person(
                    household, name=_name(rng), id_number=number, phone=phone, political_status=political,
                    relation=relation, registered_on=max(household.registered_on, birth), tags=person_tags,
                    by=None, is_demo=True, today=ref)
                if status != "living":
                    people_actions.update_person(person, status=status, status_changed_on=changed, by=None)
    ctx.log(f"户籍：{Household.objects.filter(is_demo=True).count()} 户，{Person.objects.filter(is_demo=True).count()} 人")
