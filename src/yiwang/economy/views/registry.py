"""Economy pages of the registry side: projects and their parties, pooled projects with their shares
and dividend runs, strong–weak pairings, enterprises with partnerships, results and joint meetings.
Scope comes from ``core.views``; writes go through ``economy.actions``."""

urlpatterns = []
