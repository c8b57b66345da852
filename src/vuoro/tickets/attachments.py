"""Checks on uploaded files before they are stored next to a ticket."""

import hashlib
import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

FORBIDDEN_SUFFIXES = {
    ".exe", ".bat", ".cmd", ".com", ".js", ".vbs", ".ps1", ".sh", ".msi", ".scr", ".jar",
    ".html", ".htm", ".svg", ".php", ".dll",
}


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int
    sha256: str


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Refuse a file that is too large or of a type that is not allowed; name the reason."""
    name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200] or "file"
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    limit = settings.VUORO_ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("%(name)s is too large: at most %(mb).0f MB is allowed.")
            % {"name": name, "mb": limit / 1024 / 1024}
        )
    if upload.size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    guessed, _encoding = mimetypes.guess_type(name)
    if (suffix in FORBIDDEN_SUFFIXES or guessed is None
            or guessed not in settings.VUORO_ATTACHMENT_ALLOWED_TYPES):
        raise ValidationError(
            _("%(name)s: this file type is not allowed.") % {"name": name}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(upload, name, guessed, upload.size, digest.hexdigest())


def check_uploads(uploads: list[UploadedFile]) -> list[CheckedUpload]:
    errors: list[str] = []
    checked: list[CheckedUpload] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"attachments": errors})
    return checked
