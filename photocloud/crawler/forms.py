from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from photocloud.core.models import MAX_ID
from photocloud.library.models import Album, Photo

from . import selectors, services


class CrawlForm(forms.Form):
    """Start a crawl from a picture, keywords, or both; `photo` and `keywords` can come prefilled from a link."""

    photo = forms.UUIDField(required=False, widget=forms.HiddenInput)
    keywords = forms.CharField(
        max_length=200,
        required=False,
        label="Keywords",
        help_text="Matched against the images' alt text, captions and page titles.",
    )
    start_pages = forms.CharField(
        required=False,
        label="Start pages",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "https://"}),
        help_text=f"One http(s) URL per line, at most {services.MAX_SEED_URLS}.",
    )
    use_sources = forms.BooleanField(required=False, initial=True, label="Also start from the configured sources")
    max_depth = forms.IntegerField(min_value=0, label="Follow links this deep")
    max_pages = forms.IntegerField(min_value=1, label="Pages at most")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        config = settings.PHOTOCLOUD["CRAWLER"]
        for name, limit, default in (("max_depth", config["MAX_DEPTH"], 1), ("max_pages", config["MAX_PAGES"], 20)):
            self.fields[name].validators.append(MaxValueValidator(limit))
            self.fields[name].widget.attrs["max"] = limit
            self.fields[name].initial = min(default, limit)
        if not selectors.sources_configured():
            del self.fields["use_sources"]

    def clean_photo(self):
        pk = self.cleaned_data.get("photo")
        if pk is None:
            return None
        photo = Photo.objects.visible_to(self.user).filter(pk=pk).first()
        if photo is None:
            raise forms.ValidationError("That picture does not exist or you may not see it.")
        return photo

    def clean_start_pages(self):
        try:
            return services.clean_seed_urls(self.cleaned_data["start_pages"].splitlines())
        except ValueError as problem:
            raise forms.ValidationError(str(problem)) from None

    def clean(self):
        data = super().clean()
        if "photo" in self.errors:  # a hidden field: its error is shown with the form's own
            self.add_error(None, self.errors.pop("photo"))
        if not data.get("photo") and not (data.get("keywords") or "").strip() and not self.errors:
            raise forms.ValidationError("Give a picture to look for, keywords, or both.")
        return data

    def start(self):
        """Start the crawl; a refusal (budgets, nothing to crawl) becomes a form error and None."""
        data = self.cleaned_data
        try:
            return services.start_crawl(
                self.user,
                target=data.get("photo"),
                keywords=data.get("keywords", ""),
                start_pages=data["start_pages"],
                use_sources=data.get("use_sources", False),
                max_pages=data["max_pages"],
                max_depth=data["max_depth"],
            )
        except services.CrawlRefused as refusal:
            self.add_error(None, refusal.message)
            return None


class CandidatesField(forms.ModelMultipleChoiceField):
    """The chosen candidates: ids checked as bounded integers before any query (2**70 is bad input, not a 500), and
    at most MAX_SAVE of them."""

    def clean(self, value):
        id_field = forms.IntegerField(min_value=1, max_value=MAX_ID)
        for pk in value or ():
            try:
                id_field.clean(pk)
            except forms.ValidationError:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:30]}
                ) from None
        if value and len(value) > services.MAX_SAVE:
            raise forms.ValidationError(f"Select at most {services.MAX_SAVE} images at a time.")
        return super().clean(value)


class SaveForm(forms.Form):
    candidates = CandidatesField(
        queryset=None, widget=forms.CheckboxSelectMultiple, error_messages={"required": "Select at least one image."}
    )
    album = forms.ModelChoiceField(
        queryset=None,
        empty_label=None,
        error_messages={"required": "Choose an album.", "invalid_choice": "Choose one of your albums."},
    )

    def __init__(self, *args, crawl, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].queryset = crawl.candidates.all()
        self.fields["album"].queryset = Album.objects.owned_by(user).order_by("title")
