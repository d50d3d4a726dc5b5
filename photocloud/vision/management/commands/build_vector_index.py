from django.core.management.base import BaseCommand

from photocloud.vision.similar import rebuild_snapshot, snapshot_is_due


class Command(BaseCommand):
    help = (
        "Build a new approximate index (snapshot) for search by image and publish it. `photocloud serve` runs this "
        "by itself when the library is large and many pictures were analysed since the last snapshot."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-due", action="store_true", help="Only when a new snapshot would pay off.")

    def handle(self, *args, if_due, **options):
        if if_due and not snapshot_is_due():
            self.stdout.write("No new snapshot needed.")
            return
        name = rebuild_snapshot()
        self.stdout.write(f"Published snapshot {name}." if name else "Small library: exact search needs no snapshot.")
