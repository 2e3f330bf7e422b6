"""Once wrote the built-in prompt templates; the post_migrate hook in studio/prompts/apps.py does now.

The hook runs after every migrate (the first one included) and after a test flush, so the templates always
equal the code's; a migration importing today's code would also be one more place keeping them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = []
