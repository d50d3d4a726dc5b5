from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "photocloud.library"
    label = "library"

    def ready(self):
        # HEIC/HEIF (and AVIF where Pillow lacks it) become ordinary Pillow formats.
        import pillow_heif

        pillow_heif.register_heif_opener()
