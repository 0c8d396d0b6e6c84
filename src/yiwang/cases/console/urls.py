"""Staff case pages (under /cases/, names ``cases:<name>``): the console, case pages and one URL per
transition (``cases:case_<transition>``), photos, the phone reveal, categories and Open311 keys."""
from django.urls import path

from . import keys, views

urlpatterns = [
    path("", views.ConsoleView.as_view(), name="console"),
    path("bulk/", views.BulkView.as_view(), name="bulk"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/edit/", views.category_edit, name="category_edit"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/deactivate/", keys.api_key_deactivate, name="api_key_deactivate"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("<int:pk>/photos/", views.case_photos, name="case_photos"),
    path("<int:pk>/reveal-phone/", views.reveal_phone, name="case_reveal_phone"),
    *[path(f"<int:pk>/{t.name.replace('_', '-')}/", views.TransitionView.as_view(transition=t.name),
           name=f"case_{t.name}") for t in views.TRANSITIONS],
]
