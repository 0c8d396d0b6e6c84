"""Permission checks used by actions: ``require(user, perm, region_path)`` audits a refusal and raises.

An action is allowed when one of the user's role assignments grants ``perm`` at a region whose path
is a prefix of ``region_path`` (the target's region). The CLI and demo builder pass ``by=None`` for
the system itself, which is always allowed and audited as "system".
"""
from . import audit
from .errors import PermissionRefused


def allowed(user, perm, region_path=None) -> bool:
    """``region_path=None`` asks whether the user holds ``perm`` anywhere (for region-less actions)."""
    if user is None:
        return True  # the system itself: CLI, demo builder, migrations
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if region_path is None:
        return user.has_any(perm)
    return any(region_path.startswith(p) for p in user.scope_paths(perm))


def require(user, perm, region_path=None, *, action=None, obj=None):
    if not allowed(user, perm, region_path):
        audit.refuse(action or perm, by=user, obj=obj, region_path=region_path or "", reason=f"缺少权限 {perm}")
        raise PermissionRefused(f"无权执行此操作（{perm}）")
