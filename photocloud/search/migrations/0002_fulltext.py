from django.db import migrations

from ._native_fulltext import set_up, tear_down


class Migration(migrations.Migration):
    """The native full-text index of each database over the search documents (removed again by 0003)."""

    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(set_up, tear_down, atomic=False)]
