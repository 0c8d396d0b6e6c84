"""How the phone screens word a case: remaining time or overdue with its colour, the state in plain
words for a resident, and the part of the timeline a resident sees.

What a resident (the reporter without staff rights at the case's region) sees of the timeline, and why:
- shown: the report itself, accepted, rejected (with the reason: they must know why), merged with
  another report of the same problem, handed to a level or a department (without the handler's name or
  the dispatcher's note), escalated (without the reason), resolved (with the result: it is the answer
  to them), their own rating, closed, and an approved extension (the deadline they were promised moved);
- hidden as staff-internal: notes written by staff to each other (accept, assign, escalate, close),
  吹哨 calls and the departments' reports, town supervision (督办), extension requests and refusals,
  "another report was merged into this one", and staff names (every staff step reads "工作人员").
Nothing here reads the database; views pass what they loaded.
"""
import datetime

from django.utils import timezone

from ..models import Case, CaseEvent

RESIDENT_STATE_WORDS = {
    Case.State.SUBMITTED: "已提交，等待受理",
    Case.State.ACCEPTED: "已受理，正在安排人员办理",
    Case.State.IN_PROGRESS: "正在办理",
    Case.State.ESCALATED: "已上报上级，正在协调办理",
    Case.State.RESOLVED: "已办结，请您评价",
    Case.State.CLOSED: "已办结",
    Case.State.REJECTED: "不予受理",
    Case.State.MERGED: "已与同一问题的其他反映合并办理",
}

# action -> (label shown to the resident, whether the event's note is shown)
RESIDENT_EVENTS = {
    "create": ("提交了问题", False),
    "accept": ("已受理", False),
    "reject": ("不予受理", True),
    "merge": ("与同一问题的其他反映合并办理", False),
    "assign": ("已安排办理", False),
    "escalate": ("已上报上级办理", False),
    "resolve": ("已办结", True),
    "rate": ("您评价了办理结果", False),
    "close": ("已关闭", False),
    "extension_approved": ("办理时限已延长", False),
}

STAFF_EVENT_LABELS = {
    "create": "上报", "accept": "受理", "reject": "不予受理", "merge": "合并为重复", "merged_in": "合并了重复诉求",
    "assign": "分派", "escalate": "上报上级", "whistle": "吹哨", "whistle_report": "部门报到", "resolve": "办结",
    "rate": "评价", "close": "关闭", "supervise": "督办", "request_extension": "申请延期",
    "extension_approved": "延期已批准", "extension_refused": "延期被驳回",
}

LEVEL_WORDS = {Case.Level.GRID: "网格", Case.Level.VILLAGE: "村", Case.Level.TOWN: "镇",
               Case.Level.DEPARTMENT: "部门"}


def duration_text(delta: datetime.timedelta) -> str:
    """"2天3小时", "5小时20分", "12分钟" for a positive span."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分" if mins else f"{hours}小时"
    return f"{mins}分钟"


def deadline(case: Case, now=None) -> dict:
    """The deadline that matters now, as words and a Bootstrap colour.

    A case waiting for acceptance counts down to ``accept_due``; an open one to ``resolve_due``; a
    finished one says whether it was done in time.
    """
    now = now or timezone.now()
    if case.state in (Case.State.REJECTED, Case.State.MERGED):
        return {"text": case.get_state_display(), "colour": "secondary", "overdue": False}
    if case.state in Case.DONE_STATES:
        late = case.resolved_at is not None and case.resolved_at > case.resolve_due
        return {"text": "超时办结" if late else "按时办结", "colour": "danger" if late else "success",
                "overdue": False}
    waiting = case.state == Case.State.SUBMITTED and case.accepted_at is None
    due, what = (case.accept_due, "受理") if waiting and now <= case.accept_due else (case.resolve_due, "办结")
    if now > due:
        return {"text": f"{what}已超时 {duration_text(now - due)}", "colour": "danger", "overdue": True}
    warning = case.warning(now)
    colour = {"red": "danger", "yellow": "warning"}.get(warning, "success")
    return {"text": f"{what}剩余 {duration_text(due - now)}", "colour": colour, "overdue": False}


def resident_timeline(events: list[CaseEvent], user) -> list[dict]:
    """The events a reporter without staff rights sees, worded for them (see the module docstring)."""
    lines = []
    for event in events:
        shown = RESIDENT_EVENTS.get(event.action)
        if shown is None:
            continue
        label, with_note = shown
        if event.action == "rate":
            rating = (event.data or {}).get("rating", "")
            label = f"您评价为“{Case.Rating(rating).label}”" if rating in Case.Rating.values else label
            if (event.data or {}).get("reopened"):
                label += "，已重新办理"
        if event.action == "extension_approved" and (event.data or {}).get("hours"):
            label = f"办理时限延长 {duration_text(datetime.timedelta(hours=event.data['hours']))}"
        who = "您" if event.by_id is not None and event.by_id == user.pk else "工作人员"
        lines.append({"at": event.at, "who": who, "label": label, "note": event.note if with_note else ""})
    return lines


def staff_timeline(events: list[CaseEvent]) -> list[dict]:
    lines = []
    for event in events:
        label = STAFF_EVENT_LABELS.get(event.action, event.action)
        data = event.data or {}
        extra = ""
        if event.action == "assign":
            extra = data.get("department") or data.get("handler") or ""
            extra = f"→ {extra}" if extra else ""
        elif event.action == "rate" and data.get("rating") in Case.Rating.values:
            extra = Case.Rating(data["rating"]).label + ("（重办）" if data.get("reopened") else "")
        elif event.action in ("request_extension", "extension_approved", "extension_refused") and data.get("hours"):
            extra = f"{data['hours']} 小时"
        elif event.action == "whistle":
            extra = "、".join(data.get("departments", []))
        lines.append({"at": event.at, "who": event.by_label, "label": label, "extra": extra, "note": event.note,
                      "to_state": Case.State(event.to_state).label if event.to_state in Case.State.values else ""})
    return lines
