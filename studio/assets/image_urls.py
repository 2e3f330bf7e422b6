"""The first-frame image input's URLs, included at ``w/<slug:slug>/images/`` (so every view gets ``slug``)."""

from django.urls import path

from studio.assets import image_views

app_name = "images"

urlpatterns = [
    path("", image_views.image_page, name="image_page"),
    path("upload/", image_views.upload, name="upload"),
    path("crop/", image_views.crop, name="crop"),
]
