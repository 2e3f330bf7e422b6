"""Signing up, logging in and out, changing the password; and accepting an invite (which needs a login)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from studio.accounts import views
from studio.security import GuardedPasswordChangeView, throttle_token_misses
from studio.workspaces import views as workspace_views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", GuardedPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("invite/<str:token>/", throttle_token_misses(workspace_views.invite_accept), name="invite_accept"),
]
