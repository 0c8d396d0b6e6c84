"""Base views every app's pages build on; scope is applied here, never re-implemented per view.

- ``ScopedListView``: a django-tables2 table over a django-filter FilterSet of
  ``Model.objects.visible_to(user)``, narrowed to the region chosen in the switcher, paginated.
- ``ScopedDetailView``: the object from the scoped queryset, else 404.
- ``ActionFormView``: a form whose ``perform`` calls an action; ``ActionError`` lands on the field.
"""
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, FormView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .errors import ActionError, PermissionRefused
from .regions import current_region


def bootstrap_widgets(form, size=""):
    """Bootstrap classes on a form's widgets (selects as form-select), and is-invalid on fields in error."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
            continue
        base = "form-select" if isinstance(widget, forms.Select) else "form-control"
        classes = [c for c in widget.attrs.get("class", "").split() if c not in ("form-control", "form-select")]
        classes += [base, f"{base}-{size}"] if size else [base]
        if form.is_bound and name in form.errors:
            classes.append("is-invalid")
        widget.attrs["class"] = " ".join(dict.fromkeys(classes))


class ScopedMixin:
    """Marks a view as scope-guarded (the URL walk test checks every view has this or is public)."""

    model = None
    scope_action = "view"
    narrow_to_current_region = True
    breadcrumbs = ()

    def scoped_queryset(self):
        qs = self.model.objects.visible_to(self.request.user, self.scope_action)
        if self.narrow_to_current_region:
            region = current_region(self.request)
            if region is not None:
                qs = qs.filter(self.model.scope.q(self.model, region.path))
        return qs

    def get_queryset(self):
        return self.scoped_queryset()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("breadcrumbs", self.get_breadcrumbs())
        return ctx

    def get_breadcrumbs(self):
        return list(self.breadcrumbs)


class ScopedListView(ScopedMixin, SingleTableMixin, FilterView):
    """A list page. A user who holds the module's permission nowhere gets 403 (the menu hides it too);
    a user who holds it sees only rows of their scope."""

    # the table paginates (one COUNT); ListView's own pagination would run the COUNT a second time
    paginate_by = None
    table_pagination = {"per_page": 50}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_any(
                f"{self.model.scope.module}.{self.scope_action}"):
            raise PermissionDenied("无权查看此页面")
        return super().dispatch(request, *args, **kwargs)
    template_name = "core/list.html"
    title = ""
    create_url_name = None
    create_label = ""  # the create button's text; "新增" when empty

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title or self.model._meta.verbose_name_plural
        ctx["create_url_name"] = self.create_url_name
        ctx["create_label"] = self.create_label
        return ctx

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        bootstrap_widgets(filterset.form, size="sm")
        for field in filterset.form.fields.values():
            if getattr(field, "empty_label", None) is not None:
                field.empty_label = "全部"  # an empty filter choice means "any", not "---------"
        return filterset


class ScopedDetailView(ScopedMixin, DetailView):
    narrow_to_current_region = False


class ActionFormView(ScopedMixin, FormView):
    """A form page for one action. Subclasses set ``form_class`` and implement ``perform(form)``."""

    template_name = "core/form.html"
    narrow_to_current_region = False
    title = ""
    success_message = "已保存"

    def get_object(self):
        return None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title
        ctx["object"] = self.object
        bootstrap_widgets(ctx["form"])
        return ctx

    def get_breadcrumbs(self):
        if self.breadcrumbs:
            return list(self.breadcrumbs)
        crumbs = []
        if self.object is not None and hasattr(self.object, "get_absolute_url"):
            crumbs.append((str(self.object), self.object.get_absolute_url()))
        return [*crumbs, (self.title, None)]

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ActionError as e:
            field = e.field if e.field in form.fields else None
            form.add_error(field, e.text)
            return self.form_invalid(form)
        except PermissionRefused as e:
            raise PermissionDenied(e.text) from None
        messages.success(self.request, self.success_message)
        return redirect(self.get_success_url(result))

    def get_success_url(self, result):
        return result.get_absolute_url()


def get_scoped_or_404(model, user, action="view", **lookup):
    """The one way to fetch a single object for a user: outside scope is 404."""
    return get_object_or_404(model.objects.visible_to(user, action), **lookup)


def not_found(*args, **kwargs):
    raise Http404
