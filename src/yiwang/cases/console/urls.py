"""Staff case pages (under /cases/)."""
urlpatterns = []
