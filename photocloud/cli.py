"""The `photocloud` console command: Django's management commands under the product's name.

`photocloud serve` runs the web server and the background worker; `photocloud migrate`, `photocloud
createsuperuser` and every other management command work as with manage.py (with - or _ in its name).
`photocloud sync` is the sync client: it runs without Django settings, so it needs no data folder or database.
"""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["sync"]:
        from photocloud.sync.client import main as sync

        sys.exit(sync(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photocloud.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `photocloud train-classifier` runs the train_classifier command
    execute_from_command_line(["photocloud", *args])


if __name__ == "__main__":
    main()
