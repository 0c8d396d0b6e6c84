"""Region pages: the tree list, a region's page (children, grids, figures), grid creation, the switcher."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yiwang.core.views import ActionFormView, ScopedDetailView, ScopedListView, get_scoped_or_404
from yiwang.exchange.listing import ExchangeButtonsMixin

from . import actions
from .filtersets import RegionFilterSet
from .forms import GridForm, RegionEditForm
from .models import Region
from .tables import RegionTable


def region_crumbs(region, user):
    visible = set(user.scope_paths("areas.view")) if not user.is_superuser else None
    crumbs = []
    for r in [*region.ancestors(), region]:
        if visible is None or any(r.path.startswith(p) for p in visible):
            crumbs.append((r.name, r.get_absolute_url()))
    return crumbs


class RegionListView(ExchangeButtonsMixin, ScopedListView):
    model = Region
    table_class = RegionTable
    filterset_class = RegionFilterSet
    title = "区域与网格"
    breadcrumbs = [("区域与网格", None)]
    # 导出 Excel with the list's filters (the regions sheet's export_for_request reads the same
    # RegionFilterSet), 从 Excel 导入 and the template for those who may edit regions (their grids)
    exchange_sheet, exchange_import = "regions", True

    def get_queryset(self):
        return super().get_queryset().select_related("parent")


class RegionDetailView(ScopedDetailView):
    model = Region
    slug_field = slug_url_kwarg = "code"
    template_name = "areas/region_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        region = self.object
        ctx["children"] = region.children.order_by("code")
        ctx["crumbs"] = region_crumbs(region, self.request.user)
        ctx["can_add_grid"] = region.is_village_level and self.request.user.scope_paths("areas.change") and any(
            region.path.startswith(p) for p in self.request.user.scope_paths("areas.change"))
        return ctx

    def get_breadcrumbs(self):
        return region_crumbs(self.object, self.request.user)


class GridCreateView(ActionFormView):
    model = Region
    form_class = GridForm
    title = "新建网格"

    def get_object(self):
        return get_scoped_or_404(Region, self.request.user, code=self.kwargs["code"])

    def get_initial(self):
        n = self.object.children.filter(kind=Region.Kind.GRID).count() + 1
        return {"code": f"{self.object.code}{n:02d}", "name": f"{self.object.short_name}第{n}网格"}

    def perform(self, form):
        return actions.create_grid(self.object, code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                                   by=self.request.user)


class RegionEditView(ActionFormView):
    model = Region
    form_class = RegionEditForm
    title = "编辑区域"

    def get_object(self):
        return get_scoped_or_404(Region, self.request.user, code=self.kwargs["code"])

    def get_initial(self):
        import json

        return {"name": self.object.name, "note": self.object.note,
                "boundary": json.dumps(self.object.boundary, ensure_ascii=False) if self.object.boundary else ""}

    def perform(self, form):
        d = form.cleaned_data
        return actions.update_region(self.object, by=self.request.user, name=d["name"], note=d["note"],
                                     boundary=d["boundary"])


@require_POST
def switch_region(request):
    code = request.POST.get("region", "")
    # a code is digits: anything else (a NUL byte, which PostgreSQL refuses outright) names no region
    region = Region.objects.visible_to(request.user).filter(code=code).first() if code.isdigit() else None
    if region is None:
        raise Http404
    request.session["region"] = region.code
    messages.info(request, f"当前区域：{region.name}")
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    return redirect(nxt)


switch_region.scoped = True  # guards itself: visible_to above
