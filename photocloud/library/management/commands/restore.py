from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from photocloud.library import backup


class Command(BaseCommand):
    help = (
        "Bring back a backup written by `photocloud backup DIR` onto an empty installation (migrated, no rows): "
        "originals checked byte for byte, then the rows, then the search index and renditions rebuilt."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, metavar="DIR")

    def handle(self, *args, directory: Path, **options):
        try:
            result = backup.restore(directory)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(result.counts.values())
        self.stdout.write(
            f"Restored {rows} row(s) and {result.originals} original(s); made {result.renditions} rendition(s)."
        )
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"The restore finished with {len(result.problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("Restore complete."))
