"""Phone case pages (under /cases/m/)."""
urlpatterns = []
