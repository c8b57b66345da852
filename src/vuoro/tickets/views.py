"""Attachment download, shared by the portal and the desk (permission-checked)."""


def attachment_download(request, pk):  # type: ignore[no-untyped-def]
    raise NotImplementedError
