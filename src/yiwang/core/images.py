"""Uploaded photos: images only (the type sniffed from the bytes, never from the name), size-limited,
re-encoded, with a thumbnail.

A phone photo of a hazard or a visit is the only upload a resident or grid worker makes. We trust
nothing the client says: the bytes are opened by Pillow, which must recognise a JPEG, PNG, GIF or
WebP and decode it fully; an executable renamed ``photo.jpg`` fails there. The stored file is a fresh
JPEG/PNG encoding of the decoded pixels (metadata such as GPS EXIF is dropped, a polyglot's payload
does not survive), and a thumbnail of at most ``THUMB_SIZE`` pixels is made beside it.
"""
import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from .errors import ActionError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "png", "WEBP": "jpg", "MPO": "jpg"}
THUMB_SIZE = (320, 320)
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb, not a phone photo


def max_bytes() -> int:
    return getattr(settings, "UPLOAD_IMAGE_MAX_BYTES", 10 * 1024 * 1024)


@dataclass
class CleanImage:
    content: ContentFile  # the re-encoded image, named ``<sha256>.<ext>``
    thumbnail: ContentFile
    sha256: str  # of the bytes as uploaded
    size: int  # bytes as uploaded
    width: int
    height: int
    content_type: str
    original_name: str


def clean_image(upload, *, field="photo", label="照片") -> CleanImage:
    """Check and re-encode an uploaded image (a Django ``UploadedFile`` or any object with ``read``)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = str(getattr(upload, "name", "") or "upload")[-100:]
    limit = max_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise ActionError(f"{label}过大：{declared / 1048576:.1f} MB，最大 {limit / 1048576:.0f} MB", field=field)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ActionError(f"{label}过大：最大 {limit / 1048576:.0f} MB", field=field)
    if not data:
        raise ActionError(f"{label}是空文件", field=field)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise ActionError(f"{label}格式不支持（{fmt}）：只接受 JPEG、PNG、GIF、WebP 图片", field=field)
            if probe.width * probe.height > MAX_PIXELS:
                raise ActionError(f"{label}像素过多：{probe.width}×{probe.height}", field=field)
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            ext = ALLOWED_FORMATS[fmt]
            if ext == "jpg" and img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            if ext == "png" and img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                img = img.convert("RGBA")
            width, height = img.size
            out = io.BytesIO()
            img.save(out, format="JPEG" if ext == "jpg" else "PNG", quality=85, optimize=True)
            thumb = img.copy()
            thumb.thumbnail(THUMB_SIZE)
            if thumb.mode not in ("RGB", "L"):
                thumb = thumb.convert("RGB")
            tout = io.BytesIO()
            thumb.save(tout, format="JPEG", quality=80)
    except ActionError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ActionError(f"{label}不是图片：文件内容无法识别为 JPEG、PNG、GIF 或 WebP（请勿改扩展名上传其他文件）",
                          field=field) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ActionError(f"{label}已损坏，无法读取：{e}", field=field) from None
    digest = hashlib.sha256(data).hexdigest()
    return CleanImage(
        content=ContentFile(out.getvalue(), name=f"{digest}.{ext}"),
        thumbnail=ContentFile(tout.getvalue(), name=f"{digest}.thumb.jpg"),
        sha256=digest, size=len(data), width=width, height=height,
        content_type="image/jpeg" if ext == "jpg" else "image/png", original_name=name,
    )
