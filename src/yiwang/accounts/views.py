"""Sign-in pages (Chinese, lockout message, demo accounts hint) and the audit log for auditors."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils.decorators import method_decorator

from yiwang.core.models import AuditEntry
from yiwang.core.views import ScopedListView

from .filtersets import AuditFilterSet
from .models import User
from .tables import AuditTable, UserTable


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["demo_mode"] = settings.DEMO_MODE
        if settings.DEMO_MODE:
            from yiwang.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

            ctx["demo_accounts"] = DEMO_ACCOUNTS
            ctx["demo_password"] = DEMO_PASSWORD
        return ctx


@login_not_required
def locked_out(request, credentials=None, *args, **kwargs):
    return render(request, "accounts/locked_out.html", status=403)


class AuditListView(ScopedListView):
    model = AuditEntry
    scope_action = "view"
    narrow_to_current_region = False
    table_class = AuditTable
    filterset_class = AuditFilterSet
    title = "审计日志"
    breadcrumbs = [("审计日志", None)]


class UserListView(ScopedListView):
    model = User
    narrow_to_current_region = False
    table_class = UserTable
    filterset_fields = ["username", "is_active"]
    title = "用户"
    breadcrumbs = [("用户", None)]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("assignments__region").order_by("username")
