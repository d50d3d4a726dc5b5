from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from photocloud.library.models import Photo
from photocloud.vision import lookalikes


class Command(BaseCommand):
    help = (
        "Group analysed pictures into look-alike albums now, for every user or one, instead of waiting for enough "
        "new pictures (the background worker regroups by itself after that)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's pictures (user name).")

    def handle(self, *args, user, **options):
        owners = get_user_model().objects.filter(pk__in=Photo.objects.filter(analysis__isnull=False).values("owner"))
        if user:
            owners = owners.filter(username=user)
            if not owners.exists():
                raise CommandError(f"{user} has no analysed pictures (run `photocloud analyze` first).")
        for owner in owners.order_by("username"):
            found = lookalikes.group(owner)
            self.stdout.write(f"{owner.username}: {len(found)} look-alike album(s)")
