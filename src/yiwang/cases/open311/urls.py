"""Open311 GeoReport v2 URLs (mounted at /open311/v2/)."""
urlpatterns = []
