"""The `photocloud` console command: Django's management commands under the product's name.

`photocloud serve` runs the web server and the background worker; `photocloud migrate`, `photocloud
createsuperuser` and every other management command work as with manage.py.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photocloud.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["photocloud", *sys.argv[1:]])


if __name__ == "__main__":
    main()
