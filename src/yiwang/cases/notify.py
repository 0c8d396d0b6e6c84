"""The notification outbox and its senders.

Every message is first a row in ``Notification`` with a unique ``key`` (event + case + recipient [+ the
deadline it is about]), written in the same transaction as the event that causes it: a rolled-back
action sends nothing, and the same event is never recorded twice, however often the SLA sweep runs or
however many sweeps run at once. ``deliver_pending`` then hands each pending row to the configured
senders (``CASES_NOTIFICATION_SENDERS``: dotted paths of classes with ``send(notification)``). The
default sender only records to the log — SMS and WeChat adapters implement the same interface.
"""
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Case, Notification

log = logging.getLogger("yiwang.notifications")


class OutboxSender:
    """The default: the outbox row itself is the message; it is logged and marked sent."""

    channel = "outbox"

    def send(self, notification: Notification):
        log.info("notify %s → %s: %s", notification.kind, notification.recipient_label, notification.body)


class SmsSender:
    """Interface for an SMS gateway adapter (configure a subclass implementing ``send``)."""

    channel = "sms"

    def send(self, notification: Notification):
        raise NotImplementedError("SMS gateway not configured")


class WeChatSender:
    """Interface for a WeChat template-message adapter (configure a subclass implementing ``send``)."""

    channel = "wechat"

    def send(self, notification: Notification):
        raise NotImplementedError("WeChat adapter not configured")


def senders():
    paths = getattr(settings, "CASES_NOTIFICATION_SENDERS", ["yiwang.cases.notify.OutboxSender"])
    return [import_string(p)() for p in paths]


def enqueue(kind, case: Case, *, recipient=None, recipient_label="", body, key, at=None) -> Notification | None:
    """Record a message once: returns None when the same key was recorded before, and for demo cases
    (nobody is messaged about invented records)."""
    if case.is_demo:
        return None
    label = recipient_label or (recipient.get_username() if recipient is not None else "")
    try:
        with transaction.atomic():  # a savepoint: a duplicate key must not break the caller's transaction
            return Notification.objects.create(kind=kind, case=case, recipient=recipient, recipient_label=label[:80],
                                               body=body, key=key[:120], created_at=at or timezone.now())
    except IntegrityError:
        return None


def assigned(case: Case, *, at=None):
    if case.handler_id:
        return enqueue(Notification.Kind.ASSIGNED, case, recipient=case.handler, at=at,
                       key=f"assigned:{case.pk}:{case.handler_id}:{case.version}",
                       body=f"诉求 {case.number}（{case.title}）已分派给您，请于 "
                            f"{timezone.localtime(case.resolve_due):%m-%d %H:%M} 前办结。")
    if case.department_id:
        return enqueue(Notification.Kind.ASSIGNED, case, recipient_label=case.department.name, at=at,
                       key=f"assigned:{case.pk}:dept{case.department_id}:{case.version}",
                       body=f"诉求 {case.number}（{case.title}）已派发至{case.department.name}。")
    return None


def resolved(case: Case, *, at=None):
    if case.reporter_id is None and not case.reporter_phone_suffix:
        return None
    label = case.reporter.get_username() if case.reporter_id else f"电话尾号{case.reporter_phone_suffix}"
    return enqueue(Notification.Kind.RESOLVED, case, recipient=case.reporter, recipient_label=label, at=at,
                   key=f"resolved:{case.pk}:{case.reopen_count}",
                   body=f"您反映的问题 {case.number} 已办结：{case.result[:60]}。请对办理结果进行评价。")


def _deadline_recipient(case):
    if case.handler_id:
        return case.handler, case.handler.get_username()
    if case.department_id:
        return None, case.department.name
    return None, f"{case.get_level_display()}级值班"


def sweep(now=None) -> dict:
    """The SLA sweep: 'deadline near' at the red warning point and 'overdue' once past the deadline,
    for every open case, each at most once per deadline (the key holds the deadline)."""
    now = now or timezone.now()
    counts = {"deadline_near": 0, "overdue": 0}
    open_cases = (Case.objects.filter(state__in=Case.OPEN_STATES, is_demo=False)
                  .select_related("category", "handler", "department"))
    for case in open_cases.iterator(chunk_size=500):
        warning = case.warning(now)
        if warning not in ("red", "overdue"):
            continue
        recipient, label = _deadline_recipient(case)
        due = f"{case.resolve_due:%Y%m%d%H%M}"
        if warning == "overdue":
            made = enqueue(Notification.Kind.OVERDUE, case, recipient=recipient, recipient_label=label, at=now,
                           key=f"overdue:{case.pk}:{due}",
                           body=f"诉求 {case.number}（{case.title}）已超过办结时限，请尽快办理。")
        else:
            made = enqueue(Notification.Kind.DEADLINE_NEAR, case, recipient=recipient, recipient_label=label, at=now,
                           key=f"near:{case.pk}:{due}",
                           body=f"诉求 {case.number}（{case.title}）将于 "
                                f"{timezone.localtime(case.resolve_due):%m-%d %H:%M} 到期，请抓紧办理。")
        if made is not None:
            counts[warning if warning == "overdue" else "deadline_near"] += 1
    counts["sent"] = deliver_pending(now=now)
    return counts


def deliver_pending(now=None, limit=1000) -> int:
    """Hand pending messages to the senders; a message is claimed by a conditional update first, so two
    deliverers running at once never send the same one twice."""
    now = now or timezone.now()
    sent = 0
    active = senders()
    for pk in list(Notification.objects.filter(status=Notification.Status.PENDING).values_list("pk", flat=True)[:limit]):
        if Notification.objects.filter(pk=pk, status=Notification.Status.PENDING).update(
                status="sending", attempts=1) != 1:
            continue
        n = Notification.objects.get(pk=pk)
        try:
            for sender in active:
                sender.send(n)
        except Exception as e:  # a failing gateway must not stop the others; the row keeps the reason
            Notification.objects.filter(pk=pk).update(status=Notification.Status.FAILED, error=str(e)[:200])
            continue
        Notification.objects.filter(pk=pk).update(status=Notification.Status.SENT, sent_at=now,
                                                  channel=",".join(s.channel for s in active)[:20])
        sent += 1
    return sent
