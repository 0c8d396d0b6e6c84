"""Every write to accounts: creating users, assigning roles, setting passwords, unlocking.

System admins create users; security admins assign roles and unlock (三员分立). The password
policy (length 8, three character classes) is Django's validators configured in settings.
"""
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from yiwang.core import audit
from yiwang.core.errors import ActionError
from yiwang.core.permissions import require

from .models import RoleAssignment, User
from .roles import MODULES, Role


def _check_password(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise ActionError("；".join(e.messages), field="password") from None


def create_user(*, username, password, display_name="", by, is_demo=False) -> User:
    require(by, "accounts.manage", None, action="accounts.create_user")
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise ActionError("用户名不能为空，且不超过 150 个字符", field="username")
    if User.objects.filter(username=username).exists():
        raise ActionError(f"用户名“{username}”已被使用", field="username")
    user = User(username=username, display_name=display_name.strip()[:50], is_demo=is_demo)
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit.record("accounts.create_user", by=by, obj=user, changes={"username": [None, username]})
    return user


def assign_role(user: User, *, role, region, module="", by) -> RoleAssignment:
    require(by, "accounts.assign", region.path, action="accounts.assign_role", obj=user)
    if role not in Role.values:
        raise ActionError(f"未知角色“{role}”", field="role")
    if module and module not in MODULES + ["all"]:
        raise ActionError(f"未知业务模块“{module}”", field="module")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, region=region, module=module)
        if created:
            audit.record("accounts.assign_role", by=by, obj=user, region_path=region.path,
                         changes={"role": [None, role], "region": [None, region.code], "module": [None, module]})
    user.refresh_grants()
    return assignment


def set_password(user: User, *, password, by) -> None:
    if by is not None and by.pk != user.pk:
        require(by, "accounts.manage", None, action="accounts.set_password", obj=user)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record("accounts.set_password", by=by, obj=user)
