"""The households write pass with keys taken ahead (``core.bulk.Ids``): a new household names its head
in its own INSERT when the head's row is in the same batch, and gets it by an UPDATE when the head comes
in a later batch; a household whose rows span batches is written once. With write batches of 3 rows,
whether the commit writes from the preview's plan or reads the file again."""
from collections import Counter

import pytest
from exchange_kit import WLNE, fresh_ids, household_rows, run, xlsx

from yiwang.core import crypto
from yiwang.core.models import AuditEntry
from yiwang.exchange import actions, plan
from yiwang.exchange.sheets import get_sheet
from yiwang.people.models import Household, Person


def spanning_rows(prefix):
    """Four households of 2, 4, 1 and 3 persons; the second's head is its last row, the fourth's its
    middle one, so with batches of 3 those heads arrive batches after their household's first row."""
    ids = iter(fresh_ids(10))
    rows = []
    for h, (members, head_at) in enumerate([(2, 0), (4, 3), (1, 0), (3, 1)]):
        for m in household_rows(f"{prefix}{h}", 1, members=members, ids=[next(ids) for _ in range(members)]):
            rows.append(m)
        for i, r in enumerate(rows[-members:]):
            r["relation"] = "户主" if i == head_at else "子女"
    return rows


@pytest.mark.parametrize("from_file", [False, True], ids=["from the plan", "from the file"])
def test_every_household_gets_its_head_whatever_batch_it_comes_in(demo_user, monkeypatch, from_file):
    monkeypatch.setattr(get_sheet("households"), "batch_size", 3)
    user = demo_user("wlne_secretary")
    prefix = "SPAN" + ("F" if from_file else "P")
    rows = spanning_rows(prefix)
    job = run("households", xlsx(rows), by=user, region=WLNE, commit=False)
    assert job.status == "checked", job.issues
    if from_file:
        plan.discard(job)
    job = actions.commit(job, by=user)
    assert job.status == "committed" and job.counts["new"] == len(rows)
    entry = AuditEntry.objects.get(action="exchange.commit", object_id=str(job.pk))
    assert entry.changes["from_plan"][1] is (not from_file)
    households = {h.number: h for h in Household.objects.filter(number__startswith=prefix).select_related("head")}
    assert len(households) == 4  # each written once, though its rows span batches
    for r in rows:
        if r["relation"] == "户主":
            head = households[r["number"]].head
            assert head is not None and crypto.decrypt(head.id_cipher) == r["id_number"], r["number"]
    members = Counter(Person.objects.filter(household__number__startswith=prefix)
                      .values_list("household__number", flat=True))
    assert members == Counter(r["number"] for r in rows)
    created = AuditEntry.objects.filter(action="people.create_household",
                                        object_id__in=[str(h.pk) for h in households.values()])
    assert created.count() == 4
