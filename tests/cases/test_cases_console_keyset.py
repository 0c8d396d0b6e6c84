"""The console's pages by keyset (较早 / 较新 links carrying a cursor) and by page number when a column
heading chose the order: every case once and in order (ties on ``reported_at`` included), the links keep
the filters and the queue, a malformed or out-of-range cursor falls back to the first page with a Chinese
message (never an error), a cursor cannot reach past the user's scope, and the query count of a page does
not depend on how deep it is or how many rows it shows."""
import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.areas.models import Region
from yiwang.cases import actions
from yiwang.cases.console.tables import CURSOR_ERROR, DEFAULT_ORDER, decode_cursor, encode_cursor
from yiwang.cases.models import Case, Category

WLNE_GRID1, NLXL_GRID1 = "15062710521501", "15062710521401"


@pytest.fixture(autouse=True)
def categories(db):
    actions.ensure_default_categories(by=None)


def make_case(title, reported_at, where=WLNE_GRID1):
    return actions.create_case(category=Category.objects.get(code="environment-waste"),
                               region=Region.objects.get(code=where), title=title, description=f"{title}，请处理",
                               by=None, channel=Case.Channel.HOTLINE, reporter_name="王大姐", reported_at=reported_at)


@pytest.fixture
def tied_cases(db):
    """Five cases reported at one and the same instant (ties on reported_at, told apart by id), and two
    either side of them."""
    at = timezone.now().replace(microsecond=123456) - datetime.timedelta(days=3)
    made = [make_case(f"同一时刻{i}", at) for i in range(5)]
    made += [make_case("稍早", at - datetime.timedelta(seconds=1)), make_case("稍晚", at + datetime.timedelta(seconds=1))]
    return made


def numbers(response):
    return [c.number for c in response.context["table"].page.object_list]


def link(response, rel):
    """The href of the pager's link ``rel`` (next = 较早/下一页, prev = 较新/上一页), or None when disabled."""
    match = re.search(rf'<a class="page-link" rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def walk(client, start, rel, limit=200):
    """Follow the ``rel`` links from ``start``: [(url, the page's numbers)] in the order shown, and the
    last response."""
    pages, url = [], start
    while url and len(pages) < limit:
        response = client.get("/cases/" + url if url.startswith("?") else url)
        assert response.status_code == 200
        pages.append((url, numbers(response)))
        url = link(response, rel)
    return pages, response


def flat(pages):
    return [n for _, page in pages for n in page]


def expected(user, **filters):
    return list(Case.objects.visible_to(user).filter(**filters).order_by(*DEFAULT_ORDER)
                .values_list("number", flat=True))


def test_walking_older_then_newer_shows_every_case_once_in_order(login, tied_cases):
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    want = expected(user)
    assert len(want) > 9, "too few cases to walk several pages"
    pages, last = walk(client, "/cases/?per_page=3", "next")
    assert flat(pages) == want  # each once, newest first, the tied ones by id
    assert all(len(p) == 3 for _, p in pages[:-1]) and 1 <= len(pages[-1][1]) <= 3
    assert "较早" in last.content.decode() and link(last, "next") is None  # the end: 较早 is disabled
    # back by 较新 from the last page: the same pages, in reverse, up to the first (较新 disabled there)
    back, first = walk(client, pages[-1][0], "prev")
    assert [p for _, p in back] == [p for _, p in reversed(pages)]
    assert link(first, "prev") is None and 'rel="next"' in first.content.decode()


def test_ties_are_split_across_pages_without_loss(login, tied_cases):
    """A page boundary inside the five tied cases: the next page starts with the next id, not a repeat."""
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    want = expected(user)
    tied = [c.number for c in sorted(tied_cases[:5], key=lambda c: -c.pk)]
    start = want.index(tied[0]) + 2  # a cursor two rows into the tie
    row = Case.objects.get(number=want[start - 1])
    r = client.get("/cases/", {"per_page": 2, "older": encode_cursor(row.reported_at, row.pk)})
    assert numbers(r) == want[start:start + 2] == tied[2:4]
    r = client.get("/cases/", {"per_page": 2, "newer": encode_cursor(row.reported_at, row.pk)})
    assert numbers(r) == want[start - 3:start - 1]


def test_links_keep_the_queue_and_filters(login, tied_cases):
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    want = expected(user, state="submitted", category__code="environment-waste")
    assert len(want) >= 5
    pages, _ = walk(client, "/cases/?state=submitted&category=environment-waste&per_page=2", "next")
    assert flat(pages) == want
    r = client.get("/cases/", {"state": "submitted", "category": "environment-waste", "per_page": 2})
    older = link(r, "next")
    assert "state=submitted" in older and "category=environment-waste" in older and "per_page=2" in older
    # a column heading starts the chosen order on its first page (the cursor is dropped)
    heading = re.search(r'href="([^"]*sort=number[^"]*)"', client.get("/cases/" + older).content.decode()).group(1)
    assert "older=" not in heading and "state=submitted" in html.unescape(heading)


def test_a_chosen_order_pages_by_number_and_sees_every_case_once(login, tied_cases):
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    pages, last = walk(client, "/cases/?sort=-title&per_page=4", "next")
    seen = flat(pages)
    want = list(Case.objects.visible_to(user).order_by("-title", "-id").values_list("number", flat=True))
    assert seen == want and len(set(seen)) == len(seen)
    assert "第 2 页" in client.get("/cases/", {"sort": "-title", "per_page": 4, "page": 2}).content.decode()
    assert 'class="orderable desc"' in last.content.decode()
    # an unknown sort is the default (keyset) order
    for sort in ("password", "--title", "title-"):
        assert numbers(client.get("/cases/", {"sort": sort, "per_page": 3})) == expected(user)[:3]


@pytest.mark.parametrize("page", ["99999999999999999999999", "3", "-4", "x", "9" * 5000])
def test_a_deep_or_bad_page_number_in_a_chosen_order_is_no_error(login, monkeypatch, page):
    """Page numbers stop MAX_SORTED_ROWS rows deep (an OFFSET deeper costs seconds on a million cases)
    and say so; a page number that is no number is the first page. (The limit is lowered to 4 rows here,
    2 pages of 2, so that the village's cases reach it.)"""
    from yiwang.cases.console import tables

    monkeypatch.setattr(tables, "MAX_SORTED_ROWS", 4)
    user = User.objects.get(username="wlne_secretary")
    r = login("wlne_secretary").get("/cases/", {"sort": "number", "page": page, "per_page": 2})
    assert r.status_code == 200
    table, want = r.context["table"], list(Case.objects.visible_to(user).order_by("number", "id")
                                           .values_list("number", flat=True))
    if page.isdigit():
        assert table.page.number == 2 and numbers(r) == want[2:4] and not table.page.has_next
        assert "最多翻到第 2 页" in r.content.decode() and link(r, "next") is None
    else:
        assert table.page.number == 1 and numbers(r) == want[:2] and "最多翻到第" not in r.content.decode()


@pytest.mark.parametrize("param, cursor", [
    ("older", "abc"),
    ("older", "1688112000000000"),                 # no id
    ("older", "1688112000000000_"),
    ("older", "1688112000000000_0"),               # ids start at 1
    ("older", "1688112000000000_-3"),
    ("older", "1688112000000000_99999999999999999999"),   # beyond a bigint
    ("older", "999999999999999999_5"),             # beyond year 9999
    ("older", "-99999999999999999_5"),             # before year 1
    ("newer", "1688112000000000_5; DROP TABLE cases_case"),
    ("newer", "１６８８_５"),                         # full-width digits
    ("older", ""),
])
def test_a_forged_or_malformed_cursor_gives_the_first_page_and_a_message(login, param, cursor):
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    r = client.get("/cases/", {param: cursor, "per_page": 3})
    assert r.status_code == 200
    assert numbers(r) == expected(user)[:3]
    page = r.content.decode()
    if cursor:
        assert CURSOR_ERROR in page and 'id="yw-cursor-error"' in page
    else:
        assert CURSOR_ERROR not in page


def test_a_cursor_never_reaches_outside_the_scope(login, tied_cases):
    """A well-formed cursor naming another village's case is only a position: the rows stay the user's."""
    theirs = make_case("纳林希里的诉求", timezone.now() + datetime.timedelta(minutes=1), where=NLXL_GRID1)
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    cursor = encode_cursor(theirs.reported_at, theirs.pk)
    for param in ("older", "newer"):
        r = client.get("/cases/", {param: cursor, "per_page": 500})
        assert r.status_code == 200 and theirs.number not in r.content.decode()
        assert set(numbers(r)) <= set(expected(user))
    assert numbers(client.get("/cases/", {"older": cursor, "per_page": 500})) == expected(user)


def test_cursor_round_trip():
    at = datetime.datetime(2023, 6, 30, 8, 15, 1, 999, tzinfo=datetime.timezone.utc)
    assert decode_cursor(encode_cursor(at, 42)) == (at, 42)
    assert decode_cursor(encode_cursor(at.astimezone(timezone.get_fixed_timezone(480)), 7)) == (at, 7)


def test_query_count_is_the_same_on_every_page(login, tied_cases):
    client, user = login("wlne_secretary"), User.objects.get(username="wlne_secretary")
    want = expected(user)
    row = Case.objects.get(number=want[8])
    cursor = encode_cursor(row.reported_at, row.pk)
    counts = {}
    for label, params, sizes in [("first", {}, (2, 100)), ("older", {"older": cursor}, (2, 100)),
                                 ("newer", {"newer": cursor}, (2, 3)),  # 8 newer rows: a middle page
                                 ("sorted", {"sort": "state"}, (2, 100)),
                                 ("sorted-2", {"sort": "state", "page": 2}, (2, 3))]:
        for per_page in sizes:
            client.get("/cases/", {**params, "per_page": per_page})
            with CaptureQueriesContext(connection) as ctx:
                r = client.get("/cases/", {**params, "per_page": per_page})
            assert r.status_code == 200 and len(numbers(r)) == min(per_page, len(want) - (9 if label == "older" else 0))
            counts[(label, per_page)] = len(ctx.captured_queries)
    assert len(set(counts.values())) == 1 and max(counts.values()) <= 20, counts
    # 较新 up to the newest rows reads the first page afresh: one query more, still bounded
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/cases/", {"newer": cursor, "per_page": 100})
    assert numbers(r) == want[:100] and len(ctx.captured_queries) == counts[("first", 100)] + 1
