import django.db.models.deletion
import photocloud.search.models
from django.db import migrations, models

from ._native_fulltext import set_up, tear_down


def fill_postings(apps, schema_editor):
    """The postings of the documents already indexed, so that search keeps working right after the upgrade."""
    from photocloud.search.backends import document_terms

    documents = apps.get_model("search", "SearchDocument").objects.order_by("pk")
    posting = apps.get_model("search", "SearchPosting")
    last = 0
    while chunk := list(documents.filter(pk__gt=last)[:1000]):
        posting.objects.bulk_create(
            (posting(document_id=doc.pk, is_album=doc.album_id is not None, object_id=doc.album_id or doc.photo_id,
                     term=term, columns=columns) for doc in chunk for term, columns in document_terms(doc).items()),
            batch_size=2000)
        last = chunk[-1].pk


class Migration(migrations.Migration):
    """Keyword search reads its own postings index instead of each database's native full-text index."""

    dependencies = [
        ('search', '0002_fulltext'),
    ]

    operations = [
        # First: on SQLite, the constraint change below copies the table, which would drop the index's triggers.
        migrations.RunPython(tear_down, set_up, atomic=False),
        migrations.CreateModel(
            name='SearchPosting',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_album', models.BooleanField()),
                ('object_id', models.UUIDField(help_text="The picture's or the album's id")),
                ('term', photocloud.search.models.TermField(max_length=60)),
                ('columns', models.PositiveSmallIntegerField()),
                ('document', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='postings', to='search.searchdocument')),
            ],
            options={
                'indexes': [models.Index(fields=['is_album', 'term', 'columns', 'object_id'], name='search_posting_lookup')],
            },
        ),
        migrations.RemoveConstraint(model_name='searchdocument', name='search_document_is_photo_or_album'),
        migrations.AddConstraint(
            model_name='searchdocument',
            constraint=models.CheckConstraint(condition=models.Q(('album__isnull', False), ('photo__isnull', False), _negated=True), name='search_document_photo_or_album'),
        ),
        migrations.RunPython(fill_postings, migrations.RunPython.noop),
    ]
