from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.accounts import views as account_views
from studio.assets import views as asset_views
from studio.generations import views as generation_views
from studio.projects import views as project_views
from studio.workspaces import views as workspace_views

workspace_patterns = (
    [
        path("new/", workspace_views.workspace_create, name="create"),
        path("<slug:slug>/", workspace_views.workspace_detail, name="detail"),
        path("<slug:slug>/members/", workspace_views.members, name="members"),
        path("<slug:slug>/members/<int:member_id>/role/", workspace_views.member_role, name="member_role"),
        path(
            "<slug:slug>/members/<int:member_id>/remove/", workspace_views.member_remove, name="member_remove"
        ),
        path("<slug:slug>/invites/", workspace_views.invite_create, name="invite_create"),
        path(
            "<slug:slug>/invites/<int:invite_id>/revoke/", workspace_views.invite_revoke, name="invite_revoke"
        ),
    ],
    "workspaces",
)

project_patterns = (
    [
        path("new/", project_views.project_create, name="create"),
        path("<str:project_id>/", project_views.project_detail, name="detail"),
        path("<str:project_id>/rename/", project_views.project_rename, name="rename"),
        path("<str:project_id>/archive/", project_views.project_archive, name="archive"),
    ],
    "projects",
)

generation_patterns = (
    [
        path("<str:generation_id>/video.mp4", generation_views.generation_video, name="video"),
        path("<str:generation_id>/poster.jpg", generation_views.generation_poster, name="poster"),
    ],
    "generations",
)

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("invite/<str:token>/", workspace_views.invite_accept, name="invite_accept"),
    path("w/", include(workspace_patterns)),
    path("w/<slug:slug>/p/", include(project_patterns)),
    path("w/<slug:slug>/g/", include(generation_patterns)),
    path("w/<slug:slug>/assets/<str:asset_id>/", asset_views.asset_file, name="asset_file"),
    path("public/assets/<str:token>/<str:name>", asset_views.public_asset, name="public_asset"),
    path("admin/", admin.site.urls),
]
