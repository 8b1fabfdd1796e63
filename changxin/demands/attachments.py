"""Attachment checks: only common document and image types, sniffed from their bytes, and a size cap."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from changxin.demands.models import Demand, DemandAttachment

# content type → (allowed extensions, magic prefix check)
ALLOWED = {
    "image/jpeg": ((".jpg", ".jpeg"), lambda head: head.startswith(b"\xff\xd8\xff")),
    "image/png": ((".png",), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "application/pdf": ((".pdf",), lambda head: head.startswith(b"%PDF-")),
    "image/webp": ((".webp",), lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
}
MAX_FILES = 5


def sniff(upload) -> str:
    """The content type of an upload judged by its bytes and its name; ValidationError if not allowed."""
    name = (upload.name or "").lower()
    max_bytes = settings.CHANGXIN_ATTACHMENT_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationError(
            {
                "attachments": _("“%(name)s” is larger than %(mb)s MB.")
                % {"name": upload.name, "mb": max_bytes // 2**20}
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for content_type, (extensions, matches) in ALLOWED.items():
        if name.endswith(extensions) and matches(head):
            return content_type
    raise ValidationError(
        {
            "attachments": _("“%(name)s” is not a JPEG, PNG, WebP image or PDF document.")
            % {"name": upload.name}
        }
    )


def validate_uploads(uploads) -> None:
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise ValidationError({"attachments": _("Attach at most %(n)s files.") % {"n": MAX_FILES}})
    for upload in uploads:
        sniff(upload)


def store_attachment(demand: Demand, upload) -> DemandAttachment:
    content_type = sniff(upload)
    return DemandAttachment.objects.create(
        demand=demand,
        file=upload,
        original_name=upload.name[:200],
        content_type=content_type,
        size=upload.size,
    )
