from django.conf import settings
from django.db import migrations

CHUNK = 2000


def undated_on_the_wall_clock(apps, schema_editor):
    """The pictures with no date taken placed by their upload's wall-clock time on the server's clock, as sort_date
    holds a camera's (models.wall_clock), and the month tallies counted again by that one rule. A server in UTC had
    them so already: nothing to do."""
    from photocloud.library import tallies
    from photocloud.library.models import wall_clock

    if settings.TIME_ZONE == "UTC":
        return
    photo = apps.get_model("library", "Photo")
    undated = photo.objects.filter(taken_at__isnull=True).order_by("pk").values_list("pk", "sort_date")
    last = None
    while rows := list((undated if last is None else undated.filter(pk__gt=last))[:CHUNK]):
        photo.objects.bulk_update([photo(pk=pk, sort_date=wall_clock(moment)) for pk, moment in rows], ["sort_date"])
        last = rows[-1][0]
    tallies.rebuild(models=tuple(apps.get_model("library", name) for name in ("Photo", "MonthTally", "ThemeTally")))


class Migration(migrations.Migration):
    dependencies = [("library", "0014_photo_listed_index")]

    operations = [migrations.RunPython(undated_on_the_wall_clock, migrations.RunPython.noop)]
