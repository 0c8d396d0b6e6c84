"""Shared fixtures. The demo town is loaded once per test database (session) through the real
builder; each test then runs in a transaction that is rolled back, so tests never see each other's
writes. Browser tests (tests/e2e) run last against a live server thread on the same database."""
import pytest
from django.test import Client

from yiwang.demo.accounts import DEMO_PASSWORD


def pytest_configure(config):
    """Uploaded files go to a temporary folder, and imports run inline (no background thread) unless
    a test asks for the thread explicitly."""
    import tempfile

    from django.conf import settings

    global _CONFIGURED_DB_NAME
    _CONFIGURED_DB_NAME = settings.DATABASES["default"]["NAME"]  # before a test database replaces it
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="yiwang-test-media-")
    settings.EXCHANGE_INLINE = True
    # the console's queue buttons are cached for 30 s in production; tests read them live (one test
    # turns the cache on to check it)
    settings.CASES_QUEUE_COUNT_SECONDS = 0
    # a fast hasher: every login in a test costs ~0.5 s with PBKDF2; the policy tests use the validators,
    # not the hash, and production keeps Django's default
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.db.backends.signals import connection_created

    connection_created.connect(_readers_do_not_lock_the_memory_database, dispatch_uid="yiwang.tests.read_uncommitted")


def _readers_do_not_lock_the_memory_database(sender, connection, **kwargs):
    """SQLite's test database is in memory with a shared cache, where a reader's table lock makes a
    concurrent writer fail at once ("database table is locked": no busy timeout applies), so a browser
    test's poll could kill the import thread it watches. A file database in WAL mode, as the embedded
    default runs, never lets readers block a writer; ``read_uncommitted`` is the shared cache's way to
    the same (readers take no table locks). Writers still exclude each other, as in production."""
    if connection.vendor == "sqlite" and "mode=memory" in str(connection.settings_dict.get("NAME", "")):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        # pytest-django makes the test database only if a collected test asks for ``db`` (or a marker);
        # the tests of committed writes (fixtures ``committed…``) and the browser tests take no test
        # transaction, so run alone (``-k``, ``tests/e2e``) they would have reached the database the
        # settings name — the developer's own
        made = None
        if connection.settings_dict["NAME"] == _CONFIGURED_DB_NAME:
            made = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"] != _CONFIGURED_DB_NAME, "refusing to test on the configured database"
        from yiwang.demo import builder

        builder.load(log=lambda msg: None)
    yield
    if made is not None:
        with django_db_blocker.unblock():
            teardown_databases(made, verbosity=0)


@pytest.fixture
def login(db):
    """``login("wlne_secretary")`` -> a Client signed in as that demo user."""

    def make(username, password=DEMO_PASSWORD):
        client = Client()
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"login failed for {username}"
        return client

    return make


@pytest.fixture
def demo_user(db):
    from yiwang.accounts.models import User

    def get(username):
        return User.objects.get(username=username)

    return get
