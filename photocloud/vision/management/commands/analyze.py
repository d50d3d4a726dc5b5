from django.core.management.base import BaseCommand
from tqdm import tqdm

from photocloud.vision import services


class Command(BaseCommand):
    help = (
        "(Re)compute what Photocloud sees (features, tags, text, faces, category) for existing pictures, in batches. "
        "Interrupt it at any time: the next run goes on with the pictures still to do."
    )

    def add_arguments(self, parser):
        parser.add_argument("--redo", action="store_true", help="Analyse every picture again, not only missing ones.")
        parser.add_argument("--batch-size", type=int, default=services.BATCH)

    def handle(self, *args, redo, batch_size, **options):
        todo = services.pictures_to_analyse(redo=redo)
        total = todo.count()
        if not total:
            self.stdout.write("Every picture is analysed.")
            return
        # Walk by primary key so that a --redo run also ends (analysed pictures stay in its queryset).
        ids = list(todo.values_list("pk", flat=True))
        with tqdm(total=total, unit="picture", file=self.stderr._out) as progress:
            for start in range(0, total, batch_size):
                batch = ids[start : start + batch_size]
                services.analyze_photos(batch)
                progress.update(len(batch))
        self.stdout.write(self.style.SUCCESS(f"Analysed {total} picture(s)."))
