"""Tables of the accounts app: users and the audit log."""
import django_tables2 as tables

from yiwang.core.models import AuditEntry

from .models import User


class AuditTable(tables.Table):
    at = tables.DateTimeColumn(format="Y年n月j日 H:i:s")
    allowed = tables.BooleanColumn(yesno="成功,拒绝")

    class Meta:
        model = AuditEntry
        fields = ("at", "actor_label", "ip", "channel", "action", "object_repr", "changes", "allowed", "reason")
        attrs = {"class": "table table-sm table-striped"}


class UserTable(tables.Table):
    username = tables.Column(verbose_name="用户名")
    roles = tables.Column(verbose_name="角色", accessor="roles_display", orderable=False)

    class Meta:
        model = User
        fields = ("username", "display_name", "roles", "is_active", "last_login")
        attrs = {"class": "table table-sm table-striped"}
