# Follow moved to the accounts app (accounts/migrations/0002): only the model state leaves; the table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_follow_moved_from_social'),
        ('social', '0003_comment_depth_and_placeholders'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Follow')],
            database_operations=[],
        ),
    ]
