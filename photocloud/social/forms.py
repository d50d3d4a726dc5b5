from django import forms

from photocloud.core.models import MAX_ID
from photocloud.library.models import Album

from .models import COMMENT_MAX_LENGTH


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment",
        error_messages={"required": "Write something first."},
    )
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class IdListField(forms.Field):
    """Several positive database ids (a repeated form field); anything else is refused, not skipped."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = []
        for item in value or []:
            # str.isdigit() also accepts "²" and other digits int() refuses; only ASCII digits are ids.
            if not (item.isascii() and item.isdigit() and len(item) <= 19 and 1 <= int(item) <= MAX_ID):
                raise forms.ValidationError(f"“{item[:40]}” is not a notification id.")
            ids.append(int(item))
        return ids


class MarkReadForm(forms.Form):
    """Which notifications to mark read (none given: all)."""

    id = IdListField(required=False)


class CopyForm(forms.Form):
    """Which of the user's own albums receives a copy of someone else's picture."""

    album = forms.ModelChoiceField(queryset=Album.objects.none(), empty_label=None, label="Add to my album")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["album"].queryset = Album.objects.owned_by(user).order_by("title")
