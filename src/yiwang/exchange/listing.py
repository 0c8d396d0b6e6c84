"""The Excel buttons of a list page, from the sheet the list declares.

- 导出 Excel: the sheet's export with the list's current filters (the query string as the user set it,
  without paging and sorting) in the switcher's region — the export view applies scope, the
  filters and the region again from the request, so the link carries nothing the user could widen.
  ID numbers and phones are masked.
- 导出（含完整身份证号）: the same with ``full=1``, offered only to users who hold ``pii.reveal``;
  the export view refuses it to anyone else and audits it as ``exchange.export_full``.
- 从 Excel 导入 and 下载导入模板: for users who may change the sheet's module.
"""
from urllib.parse import urlencode

from django.urls import reverse

from .jobs import can_export_full
from .sheets import get_sheet

NOT_FILTERS = {"page", "sort", "per_page", "full", "from"}


class ExchangeButtonsMixin:
    exchange_sheet = ""  # the sheet key, e.g. "households"
    exchange_from = ""  # ``from=`` for the sheet's export_for_request: whose filters the query string holds
    exchange_import = False  # offer 从 Excel 导入 on this list
    template_name = "exchange/list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["exchange"] = exchange_buttons(self.request, self.exchange_sheet, origin=self.exchange_from,
                                           offer_import=self.exchange_import)
        return ctx


def exchange_buttons(request, sheet_key, *, origin="", offer_import=False):
    sheet = get_sheet(sheet_key)
    user = request.user
    params = [(k, v) for k, values in request.GET.lists() if k not in NOT_FILTERS for v in values if v != ""]
    if origin:
        params.append(("from", origin))
    base = reverse("exchange:export", args=[sheet.key])
    may_write = user.has_any(sheet.change_permission)
    return {
        "sheet": sheet,
        "export_url": f"{base}?{urlencode(params)}" if params else base,
        "export_full_url": f"{base}?{urlencode([*params, ('full', '1')])}" if can_export_full(user, sheet.key) else "",
        "import_url": f"{reverse('exchange:upload')}?{urlencode({'sheet': sheet.key})}"
        if offer_import and may_write else "",
        "template_url": reverse("exchange:template", args=[sheet.key]) if may_write else "",
    }
