"""Included by studio.urls at ``w/<slug:slug>/prompts/``."""

from django.urls import path

from studio.prompts import views

app_name = "prompts"

urlpatterns = [
    path("", views.builder_page, name="builder"),
    path("templates/", views.templates_list, name="templates"),
    path("templates/save/", views.template_save, name="template_save"),
    path("templates/<int:template_id>/", views.template_parts, name="template_parts"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
]
