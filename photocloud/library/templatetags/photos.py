"""How a picture is shown in the pages: its alternative text and its shape in the justified grid."""

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.utils import formats

from ..services import display_name

register = template.Library()

LABELS_IN_ALT = 3
ASPECT_RANGE = (0.25, 4.0)  # a panorama or a long screenshot still gets a usable tile
ROW_HEIGHT = 240  # CSS pixels a justified row is about as high (app.css --row, grown to fill): picks the rendition


@register.filter
def photo_alt(photo) -> str:
    """What a screen reader says for a picture: its title; else what Photocloud sees in it (automatic category and
    its strongest labels); else when it was taken. Never the file name ("IMG_0042"), the title an upload starts with."""
    title = photo.title.strip()
    if title and title != display_name(photo.original_name):
        return title
    try:
        seen = photo.analysis  # selected with the picture by the library's selectors (one row, no extra query)
    except ObjectDoesNotExist:
        seen = None
    if seen is not None and seen.category:
        labels = [name for name in seen.label_names[:LABELS_IN_ALT] if name]
        return f"{seen.category_label}: {', '.join(labels)}" if labels else seen.category_label
    when = photo.taken_local or photo.wall_clock
    return f"Photo taken on {formats.date_format(when, 'j F Y')}"


@register.filter
def aspect(photo) -> str:
    """Width over height as displayed, for the justified rows (CSS `--ar`); 1 while the size is not known yet."""
    if not photo.width or not photo.height:
        return "1"
    low, high = ASPECT_RANGE
    return f"{min(max(photo.width / photo.height, low), high):.4f}"


@register.filter
def tile_width(photo) -> int:
    """About how wide the tile is drawn, for `sizes`: the browser then fetches the small rendition, or the medium one
    on a dense screen or for a wide picture."""
    return round(float(aspect(photo)) * ROW_HEIGHT)
