"""Included by studio.urls at ``w/<slug:slug>/storyboards/`` (namespace "storyboards")."""

from django.urls import path

from studio.storyboards import views

app_name = "storyboards"

urlpatterns = [
    path("p/<str:project_id>/", views.storyboard_index, name="index"),
    path("p/<str:project_id>/new/", views.storyboard_create, name="create"),
    path("exports/<str:export_id>/film.mp4", views.export_file, name="export_file"),
    path("exports/<str:export_id>/share/", views.export_share, name="export_share"),
    path("<str:storyboard_id>/", views.storyboard_detail, name="detail"),
    path("<str:storyboard_id>/shots/", views.shot_add, name="shot_add"),
    path("<str:storyboard_id>/shots/<str:shot_id>/move/", views.shot_move, name="shot_move"),
    path("<str:storyboard_id>/shots/<str:shot_id>/take/", views.shot_take, name="shot_take"),
    path("<str:storyboard_id>/shots/<str:shot_id>/trim/", views.shot_trim, name="shot_trim"),
    path("<str:storyboard_id>/shots/<str:shot_id>/generate/", views.shot_generate, name="shot_generate"),
    path("<str:storyboard_id>/shots/<str:shot_id>/from-here/", views.chain_start, name="chain_start"),
    path("<str:storyboard_id>/chain/stop/", views.chain_stop, name="chain_stop"),
    path("<str:storyboard_id>/export/settings/", views.export_settings, name="export_settings"),
    path("<str:storyboard_id>/export/", views.export_create, name="export_create"),
]
