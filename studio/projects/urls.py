"""Included by studio.urls at ``w/<slug:slug>/p/``. A project's page is its gallery and its job form, so
the generations app serves it."""

from django.urls import path

from studio.generations import views as generation_views
from studio.projects import views

app_name = "projects"

urlpatterns = [
    path("new/", views.project_create, name="create"),
    path("<str:project_id>/", generation_views.project_page, name="detail"),
    path("<str:project_id>/rename/", views.project_rename, name="rename"),
    path("<str:project_id>/archive/", views.project_archive, name="archive"),
]
