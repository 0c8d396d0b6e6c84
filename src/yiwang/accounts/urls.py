"""Accounts URLs: sign in/out, audit log, users."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.AuditListView.as_view(), name="audit_list"),
    path("users/", views.UserListView.as_view(), name="user_list"),
]
