"""我的消息: the outbox messages addressed to the signed-in user (case assigned, deadline near, overdue,
resolved — please rate), newest first. With the default sender the outbox is where a message is read;
an SMS or WeChat sender delivers the same rows. Reads only the user's own rows, and links each to its
case only where the user may still see that case."""
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import Case, Notification

PER_PAGE = 30


def my_messages(request):
    rows = (Notification.objects.filter(recipient=request.user).select_related("case")
            .only("kind", "body", "created_at", "status", "case__id", "case__number", "case__region_path"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    visible = set(Case.objects.visible_to(request.user).filter(pk__in=[n.case_id for n in page])
                  .values_list("pk", flat=True))
    own = set(Case.objects.filter(reporter=request.user, pk__in=[n.case_id for n in page]).values_list("pk", flat=True))
    items = [(n, n.case_id in visible, n.case_id in own) for n in page]
    return render(request, "cases/messages.html", {"page": page, "items": items, "title": "我的消息",
                                                    "breadcrumbs": [("我的消息", None)]})


my_messages.scoped = True  # the user's own messages only (recipient = the user); case links through visible_to
my_messages.scope_model = Case
