"""Included by studio.urls at ``w/<slug:slug>/storyboards/`` (namespace "storyboards")."""

from django.urls import path

from studio.storyboards import views

app_name = "storyboards"

urlpatterns = [
    path("exports/<str:export_id>/film.mp4", views.export_file, name="export_file"),
]
