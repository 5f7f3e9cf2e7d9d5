"""The console's image forms: upload a ``docker save`` tar, pull by reference.

They check only the shape of the input; ``containers.images`` decides everything else (a valid
reference, a loadable archive) and its refusals are shown at the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings


class ImageUploadForm(forms.Form):
    file = forms.FileField(
        label="Image archive",
        help_text="A tar written by docker save name:tag.",
        widget=forms.FileInput(attrs={"accept": ".tar,application/x-tar"}),
    )
    replace = forms.BooleanField(
        label="Replace tags that already name another image (administrators only)",
        required=False,
        help_text="Deployments keep running the image they started with until they are rolled out.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # console.js refuses a larger file before uploading it; the server enforces the cap anyway.
        self.fields["file"].widget.attrs["data-max-bytes"] = str(settings.IMAGE_UPLOAD_MAX_BYTES)


class ImagePullForm(forms.Form):
    reference = forms.CharField(
        max_length=512,
        label="Reference",
        help_text="registry:port/team/app:tag — the tag defaults to latest.",
        widget=forms.TextInput(attrs={"placeholder": "127.0.0.1:5000/team/app:1.2", "autocomplete": "off"}),
    )
    username = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    # Never rendered back (render_value=False), used for this one pull, never stored or logged.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") and not cleaned.get("username"):
            self.add_error("username", "a password needs a username")
        return cleaned
