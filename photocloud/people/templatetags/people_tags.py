from django import template
from django.urls import reverse
from django.utils.html import format_html

from photocloud.people import selectors

register = template.Library()

MARGIN = 0.35  # room around the face box in a face thumbnail, as a share of the box


@register.simple_tag
def face_crop(face):
    """Inline style showing just this face of its picture's 1024 px rendition, as a square background crop (no
    separate face files to store, and the rendition's own access check applies)."""
    photo = face.photo
    width, height = max(photo.width or 1, 1), max(photo.height or 1, 1)
    side = max(face.width, face.height) * (1 + 2 * MARGIN)
    side = min(side, width, height)
    left = min(max(face.x + face.width / 2 - side / 2, 0), width - side)
    top = min(max(face.y + face.height / 2 - side / 2, 0), height - side)
    size_x, size_y = width / side * 100, height / side * 100
    pos_x = left / (width - side) * 100 if width > side else 50
    pos_y = top / (height - side) * 100 if height > side else 50
    return format_html(
        "background-image:url('{}');background-size:{}% {}%;background-position:{}% {}%",
        reverse("library:photo_file", args=[face.photo_id, "m"]),
        f"{size_x:.2f}",
        f"{size_y:.2f}",
        f"{pos_x:.2f}",
        f"{pos_y:.2f}",
    )


@register.simple_tag
def face_box(face):
    """Inline style placing a face's box over its picture, in percentages of the picture."""
    photo = face.photo
    width, height = max(photo.width or 1, 1), max(photo.height or 1, 1)
    return format_html(
        "left:{}%;top:{}%;width:{}%;height:{}%",
        *(
            f"{value:.2f}"
            for value in (
                face.x / width * 100,
                face.y / height * 100,
                face.width / width * 100,
                face.height / height * 100,
            )
        ),
    )


@register.inclusion_tag("people/_photo_people.html", takes_context=True)
def photo_people(context, photo):
    """The people in a picture, for its owner only (selectors.faces_in gives nobody else anything)."""
    user = context["request"].user
    faces = selectors.faces_in(user, photo)
    return {
        "photo": photo,
        "faces": faces,
        "people": selectors.choices(user) if faces else [],
        "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }
