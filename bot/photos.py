"""Photos from auditors: size-checked, and stored without their metadata.

Choice: metadata is stripped at storage time and the original bytes are never written.
A phone's photo carries EXIF (GPS position, device, owner name); the bot re-encodes the
image with Pillow, keeping only the pixels (turned upright from the EXIF orientation first),
so nothing stored, exported or shown to a coordinator can leak where the auditor was.
The visit's position check uses the location the auditor shares on purpose, not photos.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

# Decompression bombs: a 10 MB JPEG may claim gigapixels; Pillow raises past this.
Image.MAX_IMAGE_PIXELS = 60_000_000


class PhotoRefused(ValueError):
    """Not an image we can read (the reason is for logs, the auditor gets a French text)."""


def strip_metadata(data: bytes) -> bytes:
    """The image re-encoded without EXIF, XMP, ICC comments or thumbnails (JPEG or PNG)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            fmt = "PNG" if image.format == "PNG" else "JPEG"
            if upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGBA" if fmt == "PNG" else "RGB")
            # A new image from the raw pixels only: no info dict (EXIF, ICC, XMP) carried over.
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoRefused(f"unreadable image: {exc.__class__.__name__}") from exc
    if fmt == "JPEG" and pixels.mode not in ("RGB", "L"):
        pixels = pixels.convert("RGB")
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(out, format="JPEG", quality=90, optimize=True)
    else:
        pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()
