"""The URL table: each app's own patterns, mounted. Names are namespaced per app where the app has many."""

from django.contrib import admin
from django.urls import include, path

from studio.assets import views as asset_views
from studio.generations import urls as generation_urls
from studio.sharing import urls as sharing_urls
from studio.workspaces import views as workspace_views

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path("", include("studio.accounts.urls")),
    path("w/", include("studio.workspaces.urls")),
    path("w/<slug:slug>/p/", include("studio.projects.urls")),
    path("w/<slug:slug>/g/", include("studio.generations.urls")),
    path("w/<slug:slug>/", include(generation_urls.workspace_pages)),
    path("w/<slug:slug>/", include(sharing_urls.workspace_pages)),
    path("w/<slug:slug>/keys/", include("studio.providers.urls")),
    path("w/<slug:slug>/masks/", include("studio.assets.mask_urls")),
    path("w/<slug:slug>/prompts/", include("studio.prompts.urls")),
    path("w/<slug:slug>/images/", include("studio.assets.image_urls")),
    path("w/<slug:slug>/storyboards/", include("studio.storyboards.urls")),
    path("w/<slug:slug>/assets/upload/", asset_views.asset_upload, name="asset_upload"),
    path("w/<slug:slug>/assets/<str:asset_id>/", asset_views.asset_file, name="asset_file"),
    path("public/assets/<str:token>/<str:name>", asset_views.public_asset, name="public_asset"),
    path("s/", include(sharing_urls.public_pages)),
    path("admin/", admin.site.urls),
]
