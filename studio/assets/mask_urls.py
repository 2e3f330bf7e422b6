"""The mask painter's URLs, included at ``w/<slug:slug>/masks/`` (so every view gets ``slug``)."""

from django.urls import path

from studio.assets import mask_views

app_name = "masks"

urlpatterns = [
    path("<str:asset_id>/", mask_views.mask_page, name="mask_page"),
    path("<str:asset_id>/frames/<int:frame>.jpg", mask_views.video_frame, name="mask_frame"),
    path("<str:asset_id>/save/", mask_views.mask_save, name="mask_save"),
    path("<str:asset_id>/painter/", mask_views.painter_fragment, name="painter"),
]
