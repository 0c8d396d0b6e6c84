"""Economy URLs (mounted at /economy/): the ledger pages and the registry pages, each module keeping
its own patterns."""
from .views import ledger, registry

app_name = "economy"
urlpatterns = [*ledger.urlpatterns, *registry.urlpatterns]
