from django.db import migrations


def recode(apps, schema_editor):
    """The sign codes of 0006 become thermometer codes, computed once from the stored vectors, and the graph is
    rebuilt over them (vision/pg_vectors.py `install`: the code column's comment tells which codes a table holds)."""
    from photocloud.vision import pg_vectors

    pg_vectors.where_installed(schema_editor, pg_vectors.install)


def forget(apps, schema_editor):
    """Back to 0006: its code writes sign codes beside these and keeps no version, so the version is forgotten and
    0007 applied again computes every code again."""
    from photocloud.vision import pg_vectors

    pg_vectors.where_installed(schema_editor, pg_vectors.forget_code_version)


class Migration(migrations.Migration):
    # Not one transaction: `install` commits the new codes before it builds the graph (see there why).
    atomic = False
    dependencies = [
        ("vision", "0006_vector_codes"),
    ]

    operations = [migrations.RunPython(recode, forget)]
