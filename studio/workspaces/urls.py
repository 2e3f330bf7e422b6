"""Included by studio.urls at ``w/``."""

from django.urls import path

from studio.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("new/", views.workspace_create, name="create"),
    path("<slug:slug>/", views.workspace_detail, name="detail"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/activity/", views.activity, name="activity"),
    path("<slug:slug>/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("<slug:slug>/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("<slug:slug>/invites/", views.invite_create, name="invite_create"),
    path("<slug:slug>/invites/<int:invite_id>/revoke/", views.invite_revoke, name="invite_revoke"),
]
