"""People pages: household and person lists, details, create/edit/move forms, the audited reveal."""
from django.db.models import Count
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from yiwang.core.views import ActionFormView, ScopedDetailView, ScopedListView, get_scoped_or_404
from yiwang.exchange.listing import ExchangeButtonsMixin

from . import actions
from .filtersets import HouseholdFilterSet, PersonFilterSet
from .forms import HouseholdEditForm, HouseholdForm, MoveForm, PersonEditForm, PersonForm
from .models import Household, Person
from .tables import HouseholdTable, PersonTable


class HouseholdListView(ExchangeButtonsMixin, ScopedListView):
    model = Household
    table_class = HouseholdTable
    filterset_class = HouseholdFilterSet
    title = "户籍"
    create_url_name = "people:household_create"
    breadcrumbs = [("户籍", None)]
    exchange_sheet, exchange_from, exchange_import = "households", "households", True

    def get_queryset(self):
        return (super().get_queryset().select_related("village", "grid", "head")
                .annotate(member_count=Count("members")).order_by("number"))


class PersonListView(ExchangeButtonsMixin, ScopedListView):
    model = Person
    table_class = PersonTable
    filterset_class = PersonFilterSet
    title = "人员"
    breadcrumbs = [("人员", None)]
    exchange_sheet = "households"  # the member rows of the households sheet, by the persons list's filters

    def get_queryset(self):
        return super().get_queryset().select_related("household")


class HouseholdDetailView(ScopedDetailView):
    model = Household
    template_name = "people/household_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("village", "grid", "head")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = self.object.members.order_by("id").prefetch_related("tags")
        ctx["tags"] = self.object.tags.all()
        return ctx

    def get_breadcrumbs(self):
        return [("户籍", "/people/households/"), (self.object.number, None)]


class PersonDetailView(ScopedDetailView):
    model = Person
    template_name = "people/person_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("household__village", "household__grid")

    def get_breadcrumbs(self):
        h = self.object.household
        return [("户籍", "/people/households/"), (h.number, h.get_absolute_url()), (self.object.name, None)]


class HouseholdCreateView(ActionFormView):
    model = Household
    form_class = HouseholdForm
    title = "新增户"
    scope_action = "change"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        return actions.create_household(by=self.request.user, **form.cleaned_data)


class HouseholdEditView(ActionFormView):
    model = Household
    form_class = HouseholdEditForm
    title = "编辑户"

    def get_object(self):
        return get_scoped_or_404(Household, self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        h = self.object
        return {"address": h.address, "registered_on": h.registered_on, "tags": list(h.tags.all())}

    def perform(self, form):
        return actions.update_household(self.object, by=self.request.user, **form.cleaned_data)


class HouseholdMoveView(ActionFormView):
    model = Household
    form_class = MoveForm
    title = "迁移网格"
    success_message = "已迁移"

    def get_object(self):
        return get_scoped_or_404(Household, self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        grid = form.cleaned_data["grid"]
        return actions.move_household(self.object, grid=grid, village=grid.parent, by=self.request.user)


class PersonCreateView(ActionFormView):
    model = Household  # the object the URL names: the household the new member joins
    form_class = PersonForm
    title = "新增成员"

    def get_object(self):
        return get_scoped_or_404(Household, self.request.user, pk=self.kwargs["pk"])

    def perform(self, form):
        return actions.add_person(self.object, by=self.request.user, **form.cleaned_data)


class PersonEditView(ActionFormView):
    model = Person
    form_class = PersonEditForm
    title = "编辑人员"

    def get_object(self):
        return get_scoped_or_404(Person, self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        p = self.object
        return {"name": p.name, "political_status": p.political_status, "relation": p.relation,
                "status": p.status, "tags": list(p.tags.all())}

    def perform(self, form):
        d = dict(form.cleaned_data)
        if not d.get("phone"):
            d.pop("phone", None)
        return actions.update_person(self.object, by=self.request.user, **d)


@require_POST
def reveal(request, pk, field):
    """Show a full ID number or phone (htmx); audited, refused outside ``pii.reveal``."""
    from yiwang.core.errors import ActionError, PermissionRefused

    person = get_scoped_or_404(Person, request.user, pk=pk)
    try:
        value = actions.reveal(person, field=field, by=request.user)
    except (ActionError, PermissionRefused) as e:
        return JsonResponse({"detail": e.text}, status=403)
    if request.htmx:
        from django.utils.html import escape
        from django.http import HttpResponse

        return HttpResponse(f'<code class="yw-revealed">{escape(value)}</code>')
    return JsonResponse({field: value})


reveal.scoped = True  # guards itself: get_scoped_or_404 above, then the action's pii.reveal check
reveal.scope_model = Person  # the object its URL names (for the scope matrix)
