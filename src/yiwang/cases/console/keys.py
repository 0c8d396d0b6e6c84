"""Stopping an Open311 key from its page (the key list and the new-key form are ``views.api_keys``)."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from yiwang.core.errors import ActionError
from yiwang.core.permissions import allowed

from .. import actions
from ..models import ApiKey


@require_POST
def api_key_deactivate(request, pk):
    """POST only; a key outside the user's ``cases.policy`` scope is a 404, as if it did not exist."""
    key = get_object_or_404(ApiKey.objects.select_related("region"), pk=pk)
    if not allowed(request.user, "cases.policy", key.region.path):
        raise Http404
    try:
        actions.deactivate_api_key(key, by=request.user)
    except ActionError as e:
        messages.error(request, e.text)
    else:
        messages.success(request, f"已停用密钥“{key.name}”：用它提交和查询都将被拒绝（其他服务器进程最迟 10 秒内生效）。")
    return redirect("cases:api_keys")

