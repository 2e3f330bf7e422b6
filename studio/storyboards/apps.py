from django.apps import AppConfig


class StoryboardsConfig(AppConfig):
    name = "studio.storyboards"
    label = "storyboards"
