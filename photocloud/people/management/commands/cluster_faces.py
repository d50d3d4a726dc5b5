from django.core.management.base import BaseCommand
from tqdm import tqdm

from photocloud.people import services


class Command(BaseCommand):
    help = (
        "Make faces for analysed pictures that have none yet (after an upgrade) and regroup every owner's faces into "
        "people with the full pass. Names, hidden people and the owner's own corrections are kept."
    )

    def handle(self, *args, **options):
        with tqdm(unit="picture", file=self.stderr._out) as progress:

            def report(done, total):
                progress.total = total
                progress.n = done
                progress.refresh()

            added = services.backfill(report)
        self.stdout.write(self.style.SUCCESS(f"Added {added} face(s); people regrouped."))
