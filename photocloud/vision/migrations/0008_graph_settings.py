from django.db import migrations


def rebuild(apps, schema_editor):
    """The code graph rebuilt with pg_vectors.GRAPH's build settings when it was built with others (pgvector's
    defaults until now): better neighbour lists, a higher recall (vision/pg_vectors.py GRAPH). Built beside the old
    graph, which answers meanwhile (writes to the vectors wait): at 1,000,000 pictures 5 minutes (load 2.5-6,
    maintenance_work_mem 4 GB; with less, far longer) and 443 MB more disk while both exist."""
    from photocloud.vision import pg_vectors

    pg_vectors.where_installed(schema_editor, pg_vectors.install)


class Migration(migrations.Migration):
    # Not one transaction, as 0007: `install` commits what it changed before it builds the graph. Reversed, the new
    # graph stays (the former code builds a missing graph only).
    atomic = False
    dependencies = [
        ("vision", "0007_thermometer_codes"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
