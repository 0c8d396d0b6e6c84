"""Template context for the shell: navigation, the region switcher and the current region."""
from . import navigation
from .regions import current_region, switchable_regions


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {
        "nav_items": navigation.items_for(user),
        "current_region": current_region(request),
        "switchable_regions": switchable_regions(request),
    }
