"""Attachment download, shared by the portal and the desk (permission-checked)."""

from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from vuoro.core.http import client_ip
from vuoro.tickets.models import Attachment
from vuoro.tickets.selectors import attachment_get
from vuoro.tickets.services import attachment_downloaded
from vuoro.tickets.tracking import attachment_for_tracking_token


def _visible_attachment(request, pk: int) -> Attachment | None:  # type: ignore[no-untyped-def]
    """Through the visitor's own access, or a tracking link to the attachment's ticket."""
    attachment = attachment_get(user=request.user, attachment_id=pk)
    if attachment is None:
        attachment = attachment_for_tracking_token(request.GET.get("t"), pk)
    return attachment


@require_GET
def attachment_download(request, pk):  # type: ignore[no-untyped-def]
    """Always a download, never rendered inline, so an uploaded file cannot act as a page."""
    attachment = _visible_attachment(request, pk)
    if attachment is None:
        raise Http404
    if request.user.is_authenticated:
        attachment_downloaded(user=request.user, attachment=attachment,
                              ip=client_ip(request))
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
