"""Included by studio.urls at ``w/<slug:slug>/keys/``: a workspace's own provider keys."""

from django.urls import path

from studio.providers import views

app_name = "providers"

urlpatterns = [
    path("", views.keys, name="keys"),
    path("<str:provider>/set/", views.key_set, name="key_set"),
    path("<str:provider>/check/", views.key_check, name="key_check"),
    path("<str:provider>/remove/", views.key_remove, name="key_remove"),
]
