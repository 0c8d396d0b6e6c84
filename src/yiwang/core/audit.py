"""Writing audit entries: ``record`` for a done action, ``refuse`` for a refused one, ``diff`` for changes.

Called from actions (inside their transaction, so a rolled-back write leaves no "done" entry) and
for refusals outside any transaction (so the refusal survives). Reading full personal data is
recorded with ``record(action="people.reveal_...")``.
"""
import datetime
import decimal

from django.db import models

from .context import current_channel, current_ip


def _plain(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (datetime.date, datetime.datetime, decimal.Decimal)):
        return str(value)
    return value


def snapshot(obj, fields):
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict, after: dict) -> dict:
    """Field diffs as {field: [old, new]} for fields whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _actor_fields(by):
    if by is None:
        return None, "system"
    if getattr(by, "is_authenticated", False):
        return by, by.get_username()
    return None, str(by)


def entry(action, *, by, obj=None, changes=None, region_path="", reason="", allowed=True):
    """The entry ``record`` writes, unsaved: for a caller that inserts it together with its object
    (``core.linked_insert``), whose pk the entry's ``object_id`` then takes."""
    from .models import AuditEntry

    actor, label = _actor_fields(by)
    return AuditEntry(
        actor=actor,
        actor_label=label,
        ip=current_ip(),
        channel=current_channel(),
        action=action,
        model=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        region_path=region_path or (getattr(obj, "audit_region_path", "") if obj is not None else ""),
        changes=changes or {},
        allowed=allowed,
        reason=reason[:500],
    )


def record(action, *, by, obj=None, changes=None, region_path="", reason="", allowed=True):
    done = entry(action, by=by, obj=obj, changes=changes, region_path=region_path, reason=reason, allowed=allowed)
    done.save(force_insert=True)
    return done


def refuse(action, *, by, obj=None, reason="", region_path=""):
    return record(action, by=by, obj=obj, reason=reason, region_path=region_path, allowed=False)


def record_rows(rows, *, by):
    """Record many done actions at once (the importer's write pass): ``rows`` are
    (action, model label, object id, object repr, region path, changes) — the same entries ``record``
    writes one by one, inserted in bulk (``core.bulk``) inside the caller's transaction."""
    from .bulk import insert_rows
    from .models import AuditEntry

    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    label = actor.get_username() if actor is not None else "system"
    actor_id, ip, channel = actor.pk if actor is not None else None, current_ip(), current_channel()
    insert_rows(AuditEntry, ["actor", "actor_label", "ip", "channel", "action", "model", "object_id",
                             "object_repr", "region_path", "changes", "allowed"],
                [(actor_id, label, ip, channel, action, model, str(object_id), repr_[:200], region_path, changes, True)
                 for action, model, object_id, repr_, region_path, changes in rows])
