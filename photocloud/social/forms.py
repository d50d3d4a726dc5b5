from django import forms

from photocloud.library.models import Album

from .models import COMMENT_MAX_LENGTH


class CommentForm(forms.Form):
    body = forms.CharField(max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
                           label="Comment", error_messages={"required": "Write something first."})
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CopyForm(forms.Form):
    """Which of the user's own albums receives a copy of someone else's picture."""

    album = forms.ModelChoiceField(queryset=Album.objects.none(), empty_label=None, label="Add to my album")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["album"].queryset = Album.objects.owned_by(user).order_by("title")
