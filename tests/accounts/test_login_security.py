"""Sign-in security (等保 2.0 level 3 baseline): the password policy in the accounts actions, lockout after 5
failures for 30 minutes, and the idle session end after 30 minutes renewed by every request.
Each test uses a throwaway user, so the demo logins other tests rely on are never locked.
"""
import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from yiwang.accounts import actions
from yiwang.accounts.models import User
from yiwang.core.errors import ActionError, PermissionRefused
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD = "Hqh-2023-ok"
CJK = re.compile(r"[\u4e00-\u9fff]")


def make_user(username="throwaway", password=GOOD):
    return actions.create_user(username=username, password=password, display_name="临时用户", by=None)


# ---- password policy -------------------------------------------------------------------------------------

@pytest.mark.parametrize("password, expect", [
    ("Ab1!xyz", "8"),  # 7 characters
    ("", "8"),
    ("abcdefgh", "至少 3 类"),  # one class
    ("abcdefg1", "至少 3 类"),  # two classes: lower, digit
    ("ABCDEFG!", "至少 3 类"),  # two classes: upper, symbol
    ("12345678", "至少 3 类"),
    ("Password1", "常见"),  # three classes, but one of the common passwords
])
def test_weak_password_refused_on_create(password, expect, demo_user):
    before = (User.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ActionError) as info:
        actions.create_user(username="weak_pw_user", password=password, by=demo_user("sysadmin"))
    assert info.value.field == "password"
    assert expect in info.value.text and CJK.search(info.value.text), info.value.text
    assert (User.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize("password", ["Hqh-2023-ok", "qz7!kmwa", "QZ7!KMWA", "Qz7kmwab", "红庆河Qz7!x"])
def test_strong_password_accepted(password, demo_user):
    user = actions.create_user(username="strong_pw_user", password=password, by=demo_user("sysadmin"))
    assert user.check_password(password)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "accounts.create_user" and entry.allowed
    assert password not in str(entry.changes)


def test_set_password_keeps_the_policy():
    user = make_user()
    audits = AuditEntry.objects.count()
    for weak in ("short1A", "alllowercase", "NoDigitsHere"):
        with pytest.raises(ActionError) as info:
            actions.set_password(user, password=weak, by=user)
        assert info.value.field == "password"
        user.refresh_from_db()
        assert user.check_password(GOOD)  # unchanged
    assert AuditEntry.objects.count() == audits
    actions.set_password(user, password="New-pass-2024", by=user)
    user.refresh_from_db()
    assert user.check_password("New-pass-2024")
    assert AuditEntry.objects.order_by("-id").first().action == "accounts.set_password"


def test_only_a_system_admin_creates_users_or_sets_others_passwords(demo_user):
    secretary = demo_user("wlne_secretary")
    users = User.objects.count()
    with pytest.raises(PermissionRefused):
        actions.create_user(username="by_secretary", password=GOOD, by=secretary)
    assert User.objects.count() == users
    refusal = AuditEntry.objects.order_by("-id").first()
    assert refusal.action == "accounts.create_user" and refusal.allowed is False
    user = make_user()
    with pytest.raises(PermissionRefused):
        actions.set_password(user, password="Other-pass-1", by=secretary)
    user.refresh_from_db()
    assert user.check_password(GOOD)


@pytest.mark.parametrize("username", ["", "   ", "x" * 151, "town_admin"])
def test_bad_username(username):
    with pytest.raises(ActionError) as info:
        make_user(username=username)
    assert info.value.field == "username" and CJK.search(info.value.text)


# ---- lockout -------------------------------------------------------------------------------------------------

def attempt(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def shift_attempts(username, minutes):
    """Move the user's recorded failures back in time (as if ``minutes`` had passed)."""
    for row in AccessAttempt.objects.filter(username=username):
        AccessAttempt.objects.filter(pk=row.pk).update(
            attempt_time=row.attempt_time - datetime.timedelta(minutes=minutes))


def test_lockout_after_five_failures_for_thirty_minutes():
    make_user("lock_me")
    client = Client()
    for n in range(1, 5):
        response = attempt(client, "lock_me", "wrong-Pass-1")
        assert response.status_code == 200, n  # the form again, with an error
        assert "locked-out" not in response.content.decode()
    fifth = attempt(client, "lock_me", "wrong-Pass-1")
    assert fifth.status_code == 403 and "已锁定 30 分钟" in fifth.content.decode()
    # locked: even the right password is refused, and no session is opened
    right = attempt(client, "lock_me", GOOD)
    assert right.status_code == 403 and "_auth_user_id" not in client.session
    assert Client().get("/").status_code == 302  # (a fresh client is not signed in either)
    # the lockout is per user name: another user at the same address signs in
    make_user("not_locked")
    assert attempt(client, "not_locked", GOOD).status_code == 302
    audit = AuditEntry.objects.filter(actor_label="lock_me", allowed=False)
    assert audit.filter(action="accounts.login").count() >= 5
    assert audit.filter(action="accounts.lockout").exists()
    # 29 minutes later: still locked (and, as django-axes counts an attempt made while locked, the 30
    # minutes start again from it); 31 minutes after the last attempt: the right password works
    shift_attempts("lock_me", 29)
    assert attempt(Client(), "lock_me", GOOD).status_code == 403
    shift_attempts("lock_me", 31)
    fresh = Client()
    assert attempt(fresh, "lock_me", GOOD).status_code == 302
    assert fresh.get("/").status_code == 200


def test_success_before_the_fifth_failure_resets_the_count():
    make_user("resets")
    client = Client()
    for _ in range(4):
        assert attempt(client, "resets", "wrong-Pass-1").status_code == 200
    assert attempt(client, "resets", GOOD).status_code == 302
    other = Client()
    for _ in range(4):
        assert attempt(other, "resets", "wrong-Pass-1").status_code == 200  # counting starts again
    assert attempt(other, "resets", GOOD).status_code == 302


def test_failure_message_is_chinese_and_does_not_say_which_part_was_wrong():
    make_user("which_part")
    known = attempt(Client(), "which_part", "wrong-Pass-1").content.decode()
    unknown = attempt(Client(), "no_such_user_here", "wrong-Pass-1").content.decode()
    error = re.search(r'alert-danger[^>]*>(.*?)</div>', known, re.S)[1].strip()
    assert CJK.search(error)
    assert error in unknown  # the same words whether or not the user exists


# ---- idle logout -----------------------------------------------------------------------------------------------

def test_session_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def _session(client):
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_each_request_renews_the_session():
    make_user("idle")
    client = Client()
    assert attempt(client, "idle", GOOD).status_code == 302
    # pretend the last request was 20 minutes ago: 10 minutes of the session left
    Session.objects.filter(pk=_session(client).pk).update(expire_date=timezone.now() + datetime.timedelta(minutes=10))
    assert client.get("/").status_code == 200
    left = _session(client).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)
    # an API call renews it too
    Session.objects.filter(pk=_session(client).pk).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get("/api/regions/").status_code == 200
    assert _session(client).expire_date - timezone.now() > datetime.timedelta(minutes=29)


def test_an_expired_session_goes_back_to_the_login_page():
    make_user("idle2")
    client = Client()
    assert attempt(client, "idle2", GOOD).status_code == 302
    assert client.get("/people/households/").status_code in (200, 403)  # signed in (403: no people grant)
    Session.objects.filter(pk=_session(client).pk).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/people/households/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") and "next=/people/households/" in response["Location"]
    assert client.get("/api/households/").status_code in (401, 403)
