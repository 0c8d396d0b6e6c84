"""Tables of the accounts app: users and the audit log."""
import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from yiwang.core.models import AuditEntry

from .models import User


class AuditTable(tables.Table):
    # sorted by id, which the primary key serves and which orders entries as their time does (the time
    # has no index: decision 0012)
    at = tables.DateTimeColumn(format="Y年n月j日 H:i:s", order_by=("id",))
    allowed = tables.BooleanColumn(yesno="成功,拒绝")
    changes = tables.Column(orderable=False, attrs={"td": {"class": "text-wrap yw-changes"}})

    def render_changes(self, value):
        """One line per field, ``field: old → new`` (the JSON tree made each row a screen tall)."""
        if not value:
            return "—"
        if not isinstance(value, dict):
            return str(value)

        def show(v):
            return "—" if v in (None, "", []) else (", ".join(map(str, v)) if isinstance(v, list) else str(v))

        lines = []
        for field, change in value.items():
            if isinstance(change, (list, tuple)) and len(change) == 2:
                lines.append(f"{field}: {show(change[0])} → {show(change[1])}")
            else:
                lines.append(f"{field}: {show(change)}")
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

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
