from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


class RegisterForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; used only to reset a forgotten password.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class ProfileForm(forms.ModelForm):
    avatar_file = forms.FileField(
        required=False, label="Avatar", help_text="A picture of you (it is cropped to a square)."
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove the avatar")

    class Meta:
        model = User
        fields = ["display_name", "email", "bio", "share_location"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. “laptop sync”.")
