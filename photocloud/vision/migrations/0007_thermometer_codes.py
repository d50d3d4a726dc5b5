from django.db import migrations


def recode(apps, schema_editor):
    """The sign codes of 0006 become thermometer codes, computed once from the stored vectors, and the graph is
    rebuilt over them (vision/pg_vectors.py `install`: the code column's comment tells which codes a table holds)."""
    from photocloud.vision import pg_vectors

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [pg_vectors.TABLE])
            if cursor.fetchone()[0]:  # only where 0005 could create the table
                pg_vectors.install(cursor)


def forget(apps, schema_editor):
    """Back to 0006: its code writes sign codes beside these and keeps no version, so the version is forgotten and
    0007 applied again computes every code again."""
    from photocloud.vision import pg_vectors

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [pg_vectors.TABLE])
            if cursor.fetchone()[0]:
                cursor.execute(f"COMMENT ON COLUMN {pg_vectors.TABLE}.code IS NULL")


class Migration(migrations.Migration):
    # Not one transaction: `install` commits the new codes before it builds the graph (see there why).
    atomic = False
    dependencies = [
        ("vision", "0006_vector_codes"),
    ]

    operations = [migrations.RunPython(recode, forget)]
