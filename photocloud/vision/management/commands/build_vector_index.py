from django.core.management.base import BaseCommand
from django.db import connection

from photocloud.vision import pg_vectors
from photocloud.vision.similar import rebuild_snapshot, snapshot_is_due


class Command(BaseCommand):
    help = (
        "Build a new approximate index (snapshot) for search by image and publish it. `photocloud serve` runs this "
        "by itself when the library is large and many pictures were analysed since the last snapshot. On PostgreSQL "
        "with pgvector: create the vector table if the extension was installed since, and store missing vectors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-due", action="store_true", help="Only when a new snapshot would pay off.")

    def handle(self, *args, if_due, **options):
        if connection.vendor == "postgresql" and not pg_vectors.in_use():
            with connection.cursor() as cursor:
                pg_vectors.install(cursor)
        if if_due and not snapshot_is_due():
            self.stdout.write("No new snapshot needed.")
            return
        name = rebuild_snapshot()
        self.stdout.write(f"Done: {name}." if name else "Small library: exact search needs no snapshot.")
