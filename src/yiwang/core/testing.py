"""Test machinery for the security tests (NetBox's ``utilities/testing`` idea): walk every URL pattern
the resolver knows, say how each view is guarded, and build its URL for an object of a given region.

The scope matrix, the unauthenticated walk and the query-count tests stand on this, so a URL pattern
added tomorrow is covered without anyone listing it. Used by tests only: nothing here runs in a request
and nothing here writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .api import ScopedViewSetMixin
from .views import ScopedMixin

# URL kwargs that do not name an object, with the value the walk fills in. A new kwarg that names
# neither a field of the view's model nor an entry here makes the walk fail loudly (teach it here).
PARAM_KWARGS = {
    "format": "json",  # DRF format suffix (households.json)
    "field": "id_number",  # which personal field a reveal shows (id_number | phone)
    "key": "households",  # which registered sheet a template/export URL is for (exchange)
}


@dataclass
class Endpoint:
    route: str  # the pattern as written, prefixes joined: "people/households/<int:pk>/"
    name: str  # namespaced name for reverse(): "people:household_detail", "household-detail"
    callback: object
    kwargs: tuple = ()
    default_kwargs: dict = field(default_factory=dict)

    def __str__(self):
        return self.route

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def view_class(self):
        """The class behind the callback: a DRF viewset or APIView (``cls``), a Django view (``view_class``)."""
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def is_drf(self) -> bool:
        return getattr(self.callback, "cls", None) is not None

    @property
    def dotted(self) -> str:
        target = self.view_class or self.callback
        return f"{target.__module__}.{target.__qualname__}"

    @property
    def methods(self) -> list[str]:
        """HTTP methods the view answers (DRF: its routed actions); Django views are probed with GET and POST."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return sorted(set(actions) - {"head", "options"})  # DRF adds head to every GET route
        cls = self.view_class
        if self.is_drf and cls is not None:
            return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]
        return ["get", "post"]

    @property
    def model(self):
        """The scoped model whose object the URL names (None for function views that do not declare one)."""
        cls = self.view_class
        if cls is None:
            return getattr(self.callback, "scope_model", None)
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            return queryset.model
        return getattr(cls, "model", None)

    @property
    def param_kwargs(self) -> list[str]:
        return [k for k in self.kwargs if k in PARAM_KWARGS]

    @property
    def object_kwargs(self) -> list[str]:
        return [k for k in self.kwargs if k not in PARAM_KWARGS]

    def key_field(self, model, kwarg) -> str:
        """The model field a URL kwarg is looked up by: ``pk``, or a field of the same name (``code``)."""
        if kwarg == "pk":
            return "pk"
        names = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
        if kwarg in names:
            return kwarg
        lookup = getattr(self.view_class, "lookup_field", None)
        if lookup and lookup in names and kwarg == getattr(self.view_class, "lookup_url_kwarg", None):
            return lookup
        raise LookupError(f"{self}: URL kwarg “{kwarg}” is neither pk nor a field of {model.__name__}; "
                          f"add it to yiwang.core.testing.PARAM_KWARGS if it is not an object key")

    def url(self, **kwargs) -> str:
        values = {k: PARAM_KWARGS[k] for k in self.param_kwargs}
        values.update(kwargs)
        return reverse(self.name, kwargs=values)

    def url_for(self, obj) -> str:
        """This endpoint's URL naming ``obj`` (an instance of the model the endpoint looks up)."""
        (kwarg,) = self.object_kwargs
        return self.url(**{kwarg: getattr(obj, self.key_field(type(obj), kwarg))})

    def url_for_any(self) -> str:
        """This endpoint's URL with placeholder object keys (for requests that must fail before any lookup)."""
        return self.url(**{k: 1 if k == "pk" else "x" for k in self.object_kwargs})


def response_text(response) -> str:
    """A response's content as text to search: pages and JSON as they are, workbooks cell by cell."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # an .xlsx (a zip): read its cells, an export's leak would hide in there
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
    return content.decode(errors="replace")


def walk(patterns=None, prefix="", namespace="") -> list[Endpoint]:
    """Every URL pattern reachable from the root URLconf, includes flattened, in resolver order."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            kwargs = tuple(p.pattern.regex.groupindex)
            found.append(Endpoint(route=prefix + str(p.pattern), name=f"{namespace}{p.name}" if p.name else "",
                                  callback=p.callback, kwargs=kwargs, default_kwargs=dict(p.default_args)))
    return found


def guard_of(endpoint: Endpoint, allowlist=()) -> str | None:
    """How a view is guarded, or None for an unguarded one.

    - ``scoped-view``: a Django class view deriving from ``core.views.ScopedMixin``;
    - ``scoped-viewset``: a DRF class deriving from ``core.api.ScopedViewSetMixin``;
    - ``marked``: a function (or class) marked ``scoped = True`` because it reads through ``visible_to``;
    - ``public``: a Django view marked with ``login_not_required`` (DRF marks *every* view so: its
      own authentication answers instead, so the mark does not count for DRF views);
    - ``allowlisted``: named (dotted path) in the caller's explicit allowlist.
    """
    cls = endpoint.view_class
    if cls is not None and issubclass(cls, ScopedViewSetMixin):
        return "scoped-viewset"
    if cls is not None and issubclass(cls, ScopedMixin) and not endpoint.is_drf:
        return "scoped-view"
    if getattr(endpoint.callback, "scoped", False) is True or getattr(cls, "scoped", False) is True:
        return "marked"
    if endpoint.dotted in allowlist:
        return "allowlisted"
    if not endpoint.is_drf and getattr(endpoint.callback, "login_required", True) is False:
        return "public"
    return None


def scoped_models() -> list:
    """Every installed model that declares a ``scope`` (and so must answer ``visible_to``)."""
    return [m for m in apps.get_models() if getattr(m, "scope", None) is not None]


def under(model, region):
    """All rows of a scoped model in ``region``'s subtree, ignoring any user (the test's own ground truth)."""
    return model._default_manager.filter(model.scope.q(model, region.path))
