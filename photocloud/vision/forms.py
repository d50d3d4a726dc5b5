from django import forms

from photocloud.library.services import normalise_label
from photocloud.library.templatetags.photos import photo_alt

from .similar import METRICS, SCOPES


class SimilarityForm(forms.Form):
    DEFAULTS = {"metric": "l1", "scope": "all"}

    # Where to look comes first; the distance is a detail with a good default (both rank alike, see vision/index.py).
    scope = forms.ChoiceField(choices=SCOPES.items(), initial="all", required=False, label="Search in")
    metric = forms.ChoiceField(choices=METRICS.items(), initial="l1", required=False, label="Ranked by")

    def options(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) or default for name, default in self.DEFAULTS.items()}


class ImageQueryForm(SimilarityForm):
    picture = forms.FileField(label="Picture", help_text="It is only compared, never stored.")


class PictureChoices(forms.ModelMultipleChoiceField):
    """Pictures to tick, each named by its alternative text (a screen reader's label for the checkbox)."""

    def label_from_instance(self, obj):
        return photo_alt(obj)


class TeachForm(forms.Form):
    """Name a category and pick the pictures that show it."""

    name = forms.CharField(max_length=50, label="Category", help_text="e.g. “cups”, “sketches”, “grandma”.")
    photos = PictureChoices(queryset=None, widget=forms.CheckboxSelectMultiple, label="Pictures")

    def __init__(self, *args, photos, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].queryset = photos

    def clean_name(self):
        return normalise_label(self.cleaned_data["name"])
