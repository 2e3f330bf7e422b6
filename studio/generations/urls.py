"""Included by studio.urls at ``w/<slug:slug>/g/`` (``urlpatterns``, namespace "generations") and at
``w/<slug:slug>/`` (``workspace_pages``: the workspace's gallery, compare and the owners' jobs page)."""

from django.urls import path

from studio.generations import stream, views
from studio.sharing import views as sharing_views

app_name = "generations"

urlpatterns = [
    path("new/<str:project_id>/", views.generation_create, name="create"),
    path("new/<str:project_id>/preview/", views.generation_preview, name="preview"),
    path("news/", views.gallery_news, name="news"),
    path("live/", stream.gallery_stream, name="live"),
    path("<str:generation_id>/", views.generation_detail, name="detail"),
    path("<str:generation_id>/card/", views.generation_card, name="card"),
    path("<str:generation_id>/cancel/", views.generation_cancel, name="cancel"),
    path("<str:generation_id>/retry/", views.generation_retry, name="retry"),
    path("<str:generation_id>/share/", sharing_views.share_generation, name="share"),
    path("<str:generation_id>/delete/", views.generation_delete, name="delete"),
    path("<str:generation_id>/rate/", views.generation_rate, name="rate"),
    path("<str:generation_id>/nudge/", views.generation_nudge, name="nudge"),
    path("<str:generation_id>/video.mp4", views.generation_video, name="video"),
    path("<str:generation_id>/poster.jpg", views.generation_poster, name="poster"),
]

workspace_pages = [
    path("gallery/", views.workspace_gallery, name="gallery"),
    path("compare/", views.compare, name="compare"),
    path("ops/", views.ops, name="ops"),
    path("ops/limits/", views.ops_limits, name="ops_limits"),
]
