from django.core.management.base import BaseCommand, CommandError

from photocloud.library import services, stored_files

SHOWN = 20  # names listed per kind of problem; the count is always complete


class Command(BaseCommand):
    help = (
        "Check that every picture's original is stored (with --hashes, byte for byte), and list files no picture "
        "refers to, half-written files and missing renditions. Exits with status 1 when a problem remains."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hashes", action="store_true", help="Read every original and compare its SHA-256.")
        parser.add_argument(
            "--repair-renditions", action="store_true", help="Make the missing renditions again from the originals."
        )
        parser.add_argument(
            "--remove-orphans",
            action="store_true",
            help="Remove the files no picture refers to and half-written ones (older than an hour).",
        )

    def handle(self, *args, hashes, repair_renditions, remove_orphans, **options):
        report = stored_files.inspect_storage(hashes=hashes)
        self.stdout.write(f"Checked {report.pictures} picture(s) and {report.stored_files} stored original(s).")
        self._list(
            "Pictures whose original is missing",
            [f"{name} (pictures {', '.join(ids)})" for name, ids in report.missing_originals.items()],
        )
        if hashes:
            self._list("Originals whose bytes do not match their SHA-256", report.corrupt_originals)
        self._list("Files no picture refers to", report.orphan_lines())
        self._list(
            "Half-written files",
            [f"{name} (an unfinished upload)" if upload_id else name for name, upload_id in report.temporary],
        )
        self._list(
            "Missing renditions",
            [f"{sha256} ({', '.join(sizes)})" for sha256, sizes in report.missing_renditions.items()],
        )
        remaining = report.problems
        if remove_orphans and (report.orphans or report.temporary):
            removed, failed = stored_files.remove_orphans(report)
            remaining -= len(report.orphan_lines()) + len(report.temporary) - failed
            self.stdout.write(f"Removed {removed} orphan(s) and half-written file(s); {failed} could not be removed.")
        if repair_renditions and report.missing_renditions:
            repaired, failures = services.repair_renditions(report.missing_renditions)
            for failure in failures:
                self.stderr.write(failure)
            self.stdout.write(f"Made {repaired} missing rendition(s) again.")
            remaining -= repaired
        if remaining:
            raise CommandError(f"{remaining} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("Storage is consistent."))

    def _list(self, title: str, lines: list[str]) -> None:
        if not lines:
            return
        self.stdout.write(f"{title}: {len(lines)}")
        for line in lines[:SHOWN]:
            self.stdout.write(f"  {line}")
        if len(lines) > SHOWN:
            self.stdout.write(f"  ... and {len(lines) - SHOWN} more")
