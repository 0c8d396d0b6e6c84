"""The region the user is looking at (the switcher), always inside the user's scope.

Stored in the session as a region code; a code outside scope (forged or stale) falls back to the
user's first scope root. Views narrow their scoped querysets further to this region's subtree.
"""


def _scope_roots(user):
    from yiwang.areas.models import Region

    paths = user.scope_paths("areas.view")
    if user.is_superuser:
        return list(Region.objects.filter(parent__isnull=True))
    return list(Region.objects.filter(path__in=paths).order_by("path"))


def current_region(request):
    from yiwang.areas.models import Region

    user = request.user
    cached = getattr(request, "_current_region", None)
    if cached is not None:
        return cached
    code = request.session.get("region")
    region = None
    if code:
        region = Region.objects.visible_to(user).filter(code=code).first()
    if region is None:
        roots = _scope_roots(user)
        region = roots[0] if roots else None
    request._current_region = region
    return region


def switchable_regions(request):
    """Scope roots and their children down to village level (a short list for the switcher)."""
    from yiwang.areas.models import Region

    user = request.user
    roots = _scope_roots(user)
    if not roots:
        return []
    qs = Region.objects.visible_to(user).exclude(kind=Region.Kind.GRID).order_by("path")
    # the roots plus up to two levels below them keeps the list short at town scope
    min_depth = min(r.depth for r in roots)
    return list(qs.filter(depth__lte=min_depth + 2).only("code", "name", "depth", "kind", "path")[:300])
