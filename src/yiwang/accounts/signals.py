"""Audit of sign-in events: success, failure and lockout (the lockout itself is django-axes')."""
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from yiwang.core import audit
from yiwang.core.context import request_context


def _user_path(user):
    first = user.assignments.select_related("region").first() if user is not None and user.pk else None
    return first.region.path if first else ""


def _ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    with request_context(ip=_ip(request)):
        audit.record("accounts.login", by=user, obj=user, region_path=_user_path(user))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        with request_context(ip=_ip(request)):
            audit.record("accounts.logout", by=user, obj=user, region_path=_user_path(user))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    from .models import User

    username = (credentials.get("username") or "?")[:150]
    known = User.objects.filter(username=username).first()
    with request_context(ip=_ip(request)):
        audit.refuse("accounts.login", by=username, reason="用户名或密码错误", region_path=_user_path(known))


@receiver(user_locked_out)
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    with request_context(ip=ip_address):
        from .models import User

        known = User.objects.filter(username=username).first() if username else None
        audit.refuse("accounts.lockout", by=(username or "?")[:150], reason="连续 5 次登录失败，锁定 30 分钟",
                     region_path=_user_path(known))
