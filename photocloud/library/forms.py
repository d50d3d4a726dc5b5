import re
import uuid

from django import forms

from .models import Album, Photo, category_key
from .services import MAX_OFFSET_MINUTES, parse_tags


class TagsField(forms.CharField):
    """Comma-separated tags, normalised by services.parse_tags."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("help_text", "Separate tags with commas.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(tag) for tag in value)
        return value

    def clean(self, value):
        return parse_tags(super().clean(value) or "")


class CategoryField(forms.CharField):
    """One category: one of the seven defaults or the user's own word (offered through a datalist)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)
        self.widget.attrs.update({"list": "category-choices", "autocomplete": "off"})

    def clean(self, value):
        return category_key(super().clean(value) or "")


class AlbumForm(forms.ModelForm):
    category = CategoryField(help_text="One category, e.g. landscape, food, or a word of your own.")
    tags = TagsField()

    class Meta:
        model = Album
        fields = ["title", "category", "tags", "description", "access"]
        widgets = {"access": forms.RadioSelect, "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"access": "Who can see it"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = [tag.name for tag in self.instance.tags.all()]


class PhotoForm(forms.ModelForm):
    category = CategoryField(required=False, help_text="Leave empty to use the album's category.")
    tags = TagsField()

    class Meta:
        model = Photo
        fields = ["title", "description", "category", "tags"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["tags"] = [tag.name for tag in self.instance.tags.all()]


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-−])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


class TakenForm(forms.Form):
    """The date taken, corrected by hand: the camera's wall-clock time and its zone when known (services.set_taken)."""

    taken = forms.DateTimeField(
        label="Date and time taken",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S"),
        help_text="The local time where the picture was taken.",
        error_messages={
            "required": "Give the date and time taken.",
            "invalid": "Give a date and time, e.g. 2024-05-01 18:30.",
        },
    )
    offset = forms.CharField(
        label="Time zone (optional)",
        required=False,
        max_length=12,
        help_text="Offset from UTC, e.g. +02:00 or -05:00; leave empty when unknown.",
    )

    @classmethod
    def for_photo(cls, photo, data=None):
        initial = {"taken": photo.taken_local, "offset": photo.taken_zone.removeprefix("UTC")}
        return cls(data, initial=initial, prefix="taken")

    def clean_taken(self):
        taken = self.cleaned_data["taken"]
        if taken is not None:
            taken = taken.replace(tzinfo=None)  # the wall-clock time as typed, in no zone
            if not 1800 <= taken.year <= 2200:
                raise forms.ValidationError("The year must be between 1800 and 2200.")
        return taken

    def clean_offset(self):
        """ "+02:00", "-5", "UTC+5:30" -> minutes east of UTC; "" -> None."""
        text = self.cleaned_data["offset"].strip()
        if not text:
            return None
        found = _OFFSET.match(text)
        minutes = found and int(found[2]) * 60 + int(found[3] or 0)
        if not found or int(found[3] or 0) >= 60 or minutes > MAX_OFFSET_MINUTES:
            raise forms.ValidationError("Write the offset as +HH:MM or -HH:MM, at most 18 hours from UTC.")
        return -minutes if found[1] in "-−" else minutes


class LocationForm(forms.Form):
    """The location, corrected by hand (services.set_location); the page's "Remove location" button empties it."""

    latitude = forms.FloatField(
        min_value=-90,
        max_value=90,
        help_text="Decimal degrees, north positive, e.g. 48.85837.",
        error_messages={"required": "Give the latitude.", "invalid": "The latitude is a number of degrees."},
    )
    longitude = forms.FloatField(
        min_value=-180,
        max_value=180,
        help_text="Decimal degrees, east positive, e.g. 2.29448.",
        error_messages={"required": "Give the longitude.", "invalid": "The longitude is a number of degrees."},
    )

    @classmethod
    def for_photo(cls, photo, data=None):
        initial = {"latitude": photo.latitude, "longitude": photo.longitude}
        return cls(data, initial=initial, prefix="place")


class DeleteAlbumForm(forms.Form):
    """Say what happens to the pictures: deleted with the album, or moved to another album."""

    pictures = forms.ChoiceField(
        choices=[("delete", "Move the pictures to the Trash too"), ("move", "Move the pictures to another album")],
        widget=forms.RadioSelect,
        initial="delete",
    )
    move_to = forms.ModelChoiceField(queryset=Album.objects.none(), required=False, label="Album")

    def __init__(self, *args, album: Album, **kwargs):
        super().__init__(*args, **kwargs)
        others = Album.objects.owned_by(album.owner).exclude(pk=album.pk)
        self.fields["move_to"].queryset = others
        if others.exists():
            self.fields["pictures"].initial = "move"  # the safe choice first
        else:
            self.fields["pictures"].choices = self.fields["pictures"].choices[:1]
            del self.fields["move_to"]

    def clean(self):
        data = super().clean()
        if data.get("pictures") == "move" and not data.get("move_to") and "move_to" in self.fields:
            self.add_error("move_to", "Choose the album that receives the pictures.")
        return data


class IdListField(forms.Field):
    """Many ids sent under one name (checkboxes, hidden inputs); at most MAX of them."""

    widget = forms.MultipleHiddenInput
    MAX = 1000

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if len(values) > self.MAX:
            raise forms.ValidationError(f"At most {self.MAX} at a time.")
        try:
            return [uuid.UUID(str(item)) for item in values]
        except ValueError:
            raise forms.ValidationError("Not a valid id.") from None


class IdsForm(forms.Form):
    """Pictures and albums chosen on the Trash page or named by an Undo button."""

    photos = IdListField(required=False)
    albums = IdListField(required=False)
