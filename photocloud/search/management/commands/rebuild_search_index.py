from django.core.management.base import BaseCommand

from photocloud.library import colors
from photocloud.library.models import Photo
from photocloud.search import meaning, services


class Command(BaseCommand):
    help = (
        "Rebuild the search index of every album and picture, compute missing dominant colours, and embed the "
        "vocabulary for similar-meaning matches. The pipeline keeps the index current; this is for existing data, "
        "restored databases, or after a change to what is indexed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all-colors",
            action="store_true",
            dest="recolor",
            help="Recompute every dominant colour, not only the missing ones.",
        )

    def handle(self, *args, recolor: bool, **options):
        pending = Photo.objects.filter(status=Photo.Status.READY)
        if not recolor:
            pending = pending.filter(dominant_color="")
        coloured = sum(
            1 for photo in pending.only("pk", "sha256").iterator(chunk_size=500) if colors.compute_for(photo)
        )
        self.stdout.write(f"Dominant colour set for {coloured} picture(s).")

        def progress(done, total):
            if done % 10_000 < services.CHUNK or done == total:
                self.stdout.write(f"  indexed {done}/{total} pictures")

        counts = services.rebuild(progress)
        self.stdout.write(f"Indexed {counts['albums']} album(s) and {counts['photos']} picture(s).")
        embedded = meaning.embed_missing_terms()
        self.stdout.write(f"Embedded {embedded} new vocabulary term(s).")
