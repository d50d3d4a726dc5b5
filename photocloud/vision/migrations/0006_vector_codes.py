import pgvector.django.bit
from django.db import migrations


def upgrade(apps, schema_editor):
    """The former two graphs of full vectors become one graph of codes (vision/pg_vectors.py `install`)."""
    from photocloud.vision import pg_vectors

    pg_vectors.where_installed(schema_editor, pg_vectors.install)


def downgrade(apps, schema_editor):
    from photocloud.vision import pg_vectors

    pg_vectors.where_installed(schema_editor, pg_vectors.downgrade)


class Migration(migrations.Migration):
    dependencies = [
        ("vision", "0005_photo_vectors"),
    ]

    operations = [
        migrations.AddField(  # the table is unmanaged: the model's state only, `upgrade` changes the table
            model_name="photovector",
            name="code",
            field=pgvector.django.bit.BitField(
                help_text="What the search graph compares (vision/pg_vectors.py `codes`)", length=1280
            ),
        ),
        migrations.RunPython(upgrade, downgrade),
    ]
