"""Albums and picture rows made directly in the database, for tests about who sees which social data (the bytes of
the pictures play no part there; the copy test uploads a real file)."""

import hashlib
import itertools

import numpy as np
from django.utils import timezone

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.vision.models import PhotoAnalysis

_serial = itertools.count()


def album(owner, access="public", title=None, category="landscape"):
    return library.create_album(owner, title=title or f"{owner.username} {access}", category=category, access=access)


def photo(album, title="", features: np.ndarray | None = None) -> Photo:
    n = next(_serial)
    row = Photo.objects.create(
        owner=album.owner,
        album=album,
        title=title or f"picture {n}",
        sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        format="JPEG",
        mime_type="image/jpeg",
        file_size=1000,
        width=10,
        height=10,
        status=Photo.Status.READY,
        sort_date=timezone.now(),
    )
    if features is not None:
        PhotoAnalysis.objects.create(photo=row, features=features.astype(np.float16).tobytes(), model_version="test")
    return row
