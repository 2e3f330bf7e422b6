"""Share links: made and revoked inside a workspace (``workspace_pages``, at ``w/<slug:slug>/``), and the
public pages a token opens (``public_pages``, at ``s/``), where every miss counts towards a throttle."""

from django.urls import path

from studio.security import throttle_token_misses
from studio.sharing import views

workspace_pages = [
    path("p/<str:project_id>/share/", views.share_project, name="share_project"),
    path("shares/<int:link_id>/revoke/", views.share_revoke, name="share_revoke"),
]

public_pages = [
    path("<str:token>/", throttle_token_misses(views.shared_page), name="shared"),
    path(
        "<str:token>/<str:generation_id>.<str:kind>",
        throttle_token_misses(views.shared_media),
        name="shared_media",
    ),
]
