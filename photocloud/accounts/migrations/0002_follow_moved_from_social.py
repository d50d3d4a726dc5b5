# Follow moves from the social app to accounts (the access rules of the library need it, and the library must not
# import the social app). Only Django's model state moves: the table keeps its name (social_follow) and its rows.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('social', '0003_comment_depth_and_placeholders'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Follow',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('followee', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='followers', to=settings.AUTH_USER_MODEL)),
                        ('follower', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='following', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'social_follow',
                        'indexes': [models.Index(fields=['followee', 'follower'], name='social_foll_followe_dfb563_idx')],
                        'constraints': [models.UniqueConstraint(fields=('follower', 'followee'), name='unique_follow'), models.CheckConstraint(condition=models.Q(('follower', models.F('followee')), _negated=True), name='no_self_follow')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
