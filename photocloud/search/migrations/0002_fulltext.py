from django.db import migrations


def set_up(apps, schema_editor):
    from photocloud.search.backends import SETUP

    for statement in SETUP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def tear_down(apps, schema_editor):
    from photocloud.search.backends import TEARDOWN

    for statement in TEARDOWN[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    """The native full-text index of each database over the search documents (see photocloud/search/backends.py)."""

    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(set_up, tear_down, atomic=False)]
