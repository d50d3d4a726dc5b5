from django import forms

from .models import Person


class PersonForm(forms.Form):
    name = forms.CharField(max_length=Person._meta.get_field("name").max_length, required=False, label="Name")


class MergeForm(forms.Form):
    other = forms.IntegerField(min_value=1, label="Merge with")


class FaceMoveForm(forms.Form):
    """Where a face goes: one of the owner's people (an id), "new" for a new person, or "none" for nobody."""

    person = forms.RegexField(regex=r"^([0-9]{1,18}|new|none)$", label="This face is")
