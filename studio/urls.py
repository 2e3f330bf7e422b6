from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.accounts import views as account_views
from studio.assets import views as asset_views
from studio.generations import views as generation_views
from studio.projects import views as project_views
from studio.providers import views as provider_views
from studio.security import ThrottledLoginView, throttle_token_misses
from studio.sharing import views as sharing_views
from studio.workspaces import views as workspace_views

workspace_patterns = (
    [
        path("new/", workspace_views.workspace_create, name="create"),
        path("<slug:slug>/", workspace_views.workspace_detail, name="detail"),
        path("<slug:slug>/members/", workspace_views.members, name="members"),
        path("<slug:slug>/activity/", workspace_views.activity, name="activity"),
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
        path("new/<str:project_id>/", generation_views.generation_create, name="create"),
        path("new/<str:project_id>/preview/", generation_views.generation_preview, name="preview"),
        path("news/", generation_views.gallery_news, name="news"),
        path("<str:generation_id>/", generation_views.generation_detail, name="detail"),
        path("<str:generation_id>/card/", generation_views.generation_card, name="card"),
        path("<str:generation_id>/cancel/", generation_views.generation_cancel, name="cancel"),
        path("<str:generation_id>/retry/", generation_views.generation_retry, name="retry"),
        path("<str:generation_id>/share/", sharing_views.share_generation, name="share"),
        path("<str:generation_id>/delete/", generation_views.generation_delete, name="delete"),
        path("<str:generation_id>/rate/", generation_views.generation_rate, name="rate"),
        path("<str:generation_id>/nudge/", generation_views.generation_nudge, name="nudge"),
        path("<str:generation_id>/video.mp4", generation_views.generation_video, name="video"),
        path("<str:generation_id>/poster.jpg", generation_views.generation_poster, name="poster"),
    ],
    "generations",
)

provider_patterns = (
    [
        path("", provider_views.keys, name="keys"),
        path("<str:provider>/set/", provider_views.key_set, name="key_set"),
        path("<str:provider>/check/", provider_views.key_check, name="key_check"),
        path("<str:provider>/remove/", provider_views.key_remove, name="key_remove"),
    ],
    "providers",
)

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/login/", ThrottledLoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("invite/<str:token>/", throttle_token_misses(workspace_views.invite_accept), name="invite_accept"),
    path("w/", include(workspace_patterns)),
    path("w/<slug:slug>/p/", include(project_patterns)),
    path("w/<slug:slug>/g/", include(generation_patterns)),
    path("w/<slug:slug>/keys/", include(provider_patterns)),
    path("w/<slug:slug>/gallery/", generation_views.workspace_gallery, name="gallery"),
    path("w/<slug:slug>/compare/", generation_views.compare, name="compare"),
    path("w/<slug:slug>/ops/", generation_views.ops, name="ops"),
    path("w/<slug:slug>/ops/limits/", generation_views.ops_limits, name="ops_limits"),
    path("w/<slug:slug>/masks/", include("studio.assets.mask_urls")),
    path("w/<slug:slug>/prompts/", include("studio.prompts.urls")),
    path("w/<slug:slug>/images/", include("studio.assets.image_urls")),
    path("w/<slug:slug>/p/<str:project_id>/share/", sharing_views.share_project, name="share_project"),
    path("w/<slug:slug>/shares/<int:link_id>/revoke/", sharing_views.share_revoke, name="share_revoke"),
    path("s/<str:token>/", throttle_token_misses(sharing_views.shared_page), name="shared"),
    path(
        "s/<str:token>/<str:generation_id>.<str:kind>",
        throttle_token_misses(sharing_views.shared_media),
        name="shared_media",
    ),
    path("w/<slug:slug>/assets/upload/", asset_views.asset_upload, name="asset_upload"),
    path("w/<slug:slug>/assets/<str:asset_id>/", asset_views.asset_file, name="asset_file"),
    path("public/assets/<str:token>/<str:name>", asset_views.public_asset, name="public_asset"),
    path("admin/", admin.site.urls),
]
