"""The search parameters, shared by the page and the API (which lists them in its schema from these fields)."""

from django import forms
from django.urls import NoReverseMatch, reverse

from photocloud.library.colors import PALETTE
from photocloud.library.models import DEFAULT_CATEGORIES, category_key

from .query import MAX_QUERY_LENGTH

SCOPES = {"all": "Everything I may see", "mine": "My library", "web": "The internet"}
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}
ORIENTATIONS = {"landscape": "Landscape", "portrait": "Portrait", "square": "Square"}
SIZES = {"small": "Small (under 1 MP)", "medium": "Medium (1–8 MP)", "large": "Large (8 MP and more)"}
ARCHIVED = {"hide": "Left out", "only": "Only archived"}


def _choices(options: dict, blank: str | None = "Any") -> list[tuple[str, str]]:
    return ([("", blank)] if blank is not None else []) + list(options.items())


def crawler_available() -> bool:
    """The internet scope hands the query to the web crawler, when that app provides its page."""
    try:
        reverse("crawler:new")
    except NoReverseMatch:
        return False
    return True


class QueryField(forms.CharField):
    """Free text that is never refused: control characters separate words, overlong text is cut."""

    def to_python(self, value):
        text = "".join(c if c.isprintable() else " " for c in super().to_python(value)[:MAX_QUERY_LENGTH])
        return " ".join(text.split())


class SearchForm(forms.Form):
    q = QueryField(
        required=False, label="Search for", help_text="Words: tags, categories, names, descriptions, text in pictures"
    )
    scope = forms.ChoiceField(required=False, choices=_choices(SCOPES, None), help_text="all, mine or web")
    sort = forms.ChoiceField(required=False, choices=_choices(SORTS, None), help_text="relevance, newest or oldest")
    date_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD, taken (or uploaded) on or after",
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD, taken (or uploaded) on or before",
    )
    category = forms.CharField(required=False, max_length=50, help_text="The owner's category")
    system_category = forms.ChoiceField(
        required=False,
        label="System category",
        choices=_choices(dict(DEFAULT_CATEGORIES)),
        help_text="The category Photocloud recognised",
    )
    album = forms.UUIDField(required=False, widget=forms.HiddenInput, help_text="Album id")
    owner = forms.CharField(
        required=False, max_length=150, help_text="Owner's user name, whole, in any case (Alice finds alice)"
    )
    make = forms.CharField(required=False, max_length=100, label="Camera make")
    model = forms.CharField(required=False, max_length=100, label="Camera model")
    has_gps = forms.BooleanField(
        required=False, label="Has location", help_text="Only pictures whose location you may see"
    )
    color = forms.ChoiceField(
        required=False,
        label="Colour",
        choices=_choices({name: name for name in PALETTE}),
        help_text="Dominant colour: " + ", ".join(PALETTE),
    )
    orientation = forms.ChoiceField(
        required=False, choices=_choices(ORIENTATIONS), help_text="landscape, portrait or square"
    )
    size = forms.ChoiceField(required=False, choices=_choices(SIZES), help_text="small, medium or large")
    archived = forms.ChoiceField(
        required=False,
        label="My archive",
        choices=_choices(ARCHIVED, "Included"),
        help_text="hide or only: your own archived pictures (others' are not affected)",
    )
    person = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
        help_text="Id of one of your people: their pictures only (a person's name in the words does the same)",
    )
    similar_to = forms.UUIDField(
        required=False, widget=forms.HiddenInput, help_text="Id of a picture: rank by visual similarity to it"
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)

    FILTERS = (
        "date_from",
        "date_to",
        "category",
        "system_category",
        "album",
        "owner",
        "make",
        "model",
        "has_gps",
        "color",
        "orientation",
        "size",
        "archived",
        "person",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = dict(SCOPES)
        if not crawler_available():
            del scopes["web"]
        if user is None or not user.is_authenticated:
            del scopes["mine"]
            del self.fields["archived"]
        self.fields["scope"].choices = _choices(scopes, None)

    def clean_category(self):
        return category_key(self.cleaned_data.get("category") or "")  # as stored: "Travel" finds "travel"

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        data["scope"] = data.get("scope") or "all"
        data["sort"] = data.get("sort") or ("relevance" if data.get("q") or data.get("similar_to") else "newest")
        return data

    def filters(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in self.FILTERS
            if self.cleaned_data.get(name) not in (None, "", False)
        }
