import os
from pathlib import Path

from django import forms
from django.conf import settings

from .models import ImportFolder


class ImportFolderForm(forms.ModelForm):
    """Administrators set import folders; the path must be a readable directory outside Photocloud's own data."""

    class Meta:
        model = ImportFolder
        fields = ["owner", "path", "album", "mode", "enabled"]

    def clean_path(self):
        raw = self.cleaned_data["path"].strip()
        if not os.path.isabs(raw):
            raise forms.ValidationError("Give an absolute path, e.g. /srv/photos/incoming.")
        path = Path(os.path.normpath(raw))
        if not path.is_dir():
            raise forms.ValidationError("No folder exists at this path on the server.")
        if not os.access(path, os.R_OK | os.X_OK):
            raise forms.ValidationError("The server cannot read this folder.")
        resolved = path.resolve()
        for own in (Path(settings.DATA_DIR), Path(settings.MEDIA_ROOT)):
            own = own.resolve()
            if resolved == own or own in resolved.parents or resolved in own.parents:
                raise forms.ValidationError("The folder may not contain, or lie inside, Photocloud's data folder.")
        return str(path)

    def clean(self):
        cleaned = super().clean()
        owner, album, mode, path = (cleaned.get(k) for k in ("owner", "album", "mode", "path"))
        if owner and album and album.owner_id != owner.pk:
            self.add_error("album", "Choose one of the owner's albums.")
        if path and mode == ImportFolder.Mode.MOVE and not os.access(path, os.W_OK):
            self.add_error("mode", "The server may not delete files in this folder: choose copy, or fix permissions.")
        return cleaned
