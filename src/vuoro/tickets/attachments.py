"""Checks on uploaded files before they are stored next to a ticket.

Limits, each refused with its reason before anything is stored: one file at most
``VUORO_ATTACHMENT_MAX_BYTES``; one request or message at most ``VUORO_ATTACHMENTS_PER_MESSAGE``
files and ``VUORO_ATTACHMENTS_MESSAGE_BYTES`` together; one ticket at most
``VUORO_ATTACHMENTS_TICKET_BYTES`` over its whole life (``check_ticket_quota``; mail keeps the
text and names the files that did not fit, ``split_by_quota``).
"""

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


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}"


def check_uploads(uploads: list[UploadedFile]) -> list[CheckedUpload]:
    """Each file checked (``check_upload``) and the set within the per-message limits."""
    count_limit = settings.VUORO_ATTACHMENTS_PER_MESSAGE
    if len(uploads) > count_limit:
        raise ValidationError({"attachments": [
            _("At most %(count)d files may be attached at once.") % {"count": count_limit}]})
    total_limit = settings.VUORO_ATTACHMENTS_MESSAGE_BYTES
    if sum(upload.size or 0 for upload in uploads) > total_limit:
        raise ValidationError({"attachments": [
            _("The files are too large together: at most %(mb)s MB at once.") % {"mb": _mb(total_limit)}]})
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


def check_ticket_quota(used: int, uploads: list[CheckedUpload]) -> None:
    """Refuse ``uploads`` if they would take the ticket's files past its quota."""
    quota = settings.VUORO_ATTACHMENTS_TICKET_BYTES
    if uploads and used + sum(item.size for item in uploads) > quota:
        raise ValidationError({"attachments": [
            _("This ticket's files would exceed %(mb)s MB. Send fewer or smaller files, or link "
              "to them.") % {"mb": _mb(quota)}]})


def split_by_quota(used: int, uploads: list[CheckedUpload]) -> tuple[list[CheckedUpload], list[str]]:
    """The uploads that fit the ticket's quota, in order, and the names of those that do not."""
    quota = settings.VUORO_ATTACHMENTS_TICKET_BYTES
    kept: list[CheckedUpload] = []
    left_out: list[str] = []
    for item in uploads:
        if used + item.size <= quota:
            kept.append(item)
            used += item.size
        else:
            left_out.append(item.filename)
    return kept, left_out
