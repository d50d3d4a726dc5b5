"""Account writes: profile and avatar."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from photocloud.library import imaging
from photocloud.library.uploads import local_file

AVATAR_SIZE = 256


def avatar_name(user) -> str:
    return f"avatars/{user.pk}.jpg"


def set_avatar(user, uploaded) -> None:
    """Validate like any picture, crop to a square rendition, and store it under a name derived from the user."""
    with local_file(uploaded) as path:
        info = imaging.probe(path)
        imaging.verify(path, info)
        data = imaging.render_square(path, info, AVATAR_SIZE)
    name = avatar_name(user)
    default_storage.save(name, ContentFile(data))
    user.avatar = name
    user.save(update_fields=["avatar"])


def remove_avatar(user) -> None:
    if user.avatar:
        default_storage.delete(user.avatar)
        user.avatar = ""
        user.save(update_fields=["avatar"])
