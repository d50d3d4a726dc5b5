from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from photocloud.library import backup


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database content and the originals (on S3: a manifest of the object keys and "
        "hashes) into DIR, a new or empty folder, for `photocloud restore DIR`. Exits with status 1 if incomplete."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, metavar="DIR")

    def handle(self, *args, directory: Path, **options):
        try:
            result = backup.backup(directory)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(result.counts.values())
        where = "copied" if result.copied else "listed (they stay in the bucket)"
        self.stdout.write(f"Backed up {rows} row(s) and {result.originals} original(s) {where} into {directory}.")
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"The backup is incomplete: {len(result.problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("Backup complete."))
