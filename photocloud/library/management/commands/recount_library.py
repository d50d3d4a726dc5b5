from django.core.management.base import BaseCommand, CommandError

from photocloud.library import tallies

SHOWN = 20  # rows listed; the count is always complete


class Command(BaseCommand):
    help = (
        "Count again the per-owner tallies of the timeline by month and by theme (library/tallies.py) from the "
        "pictures, e.g. after a write that bypassed the services (the admin, SQL by hand). With --check, only "
        "compare them and exit with status 1 when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare, change nothing.")

    def handle(self, *args, check, **options):
        if check:
            found = tallies.differences()
            for line in found[:SHOWN]:
                self.stdout.write(f"  {line}")
            if found:
                raise CommandError(f"{len(found)} tally row(s) differ from a count; run recount_library to fix them.")
            self.stdout.write("The tallies agree with a count of the pictures.")
            return
        self.stdout.write(f"Counted {tallies.rebuild()} picture(s) into the tallies.")
