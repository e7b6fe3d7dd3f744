"""Photos from auditors: size-checked, and stored without their metadata.

Choice: metadata is stripped at storage time and the original bytes are never written.
A phone's photo carries EXIF (GPS position, device, owner name); the bot re-encodes the
image with Pillow, keeping only the pixels (turned upright from the EXIF orientation first),
so nothing stored, exported or shown to a coordinator can leak where the auditor was.
The visit's position check uses the location the auditor shares on purpose, not photos.

Bombs: a 490 KB PNG can declare 118 million pixels and take 2 GB and seconds to decode. The
pixel count is read from the header (``Image.open`` decodes nothing) and an image past
``MAX_PIXELS`` (50 Mpx: a 48 Mpx phone camera's full size) is refused before ``load()``;
Pillow's own check (a warning past ``MAX_IMAGE_PIXELS``) is made an error too. The bytes
themselves arrive through ``download_capped``: streamed, and dropped as soon as they pass
the size limit, whether or not Telegram said the file's size.
"""

from __future__ import annotations

import io
import warnings

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PhotoRefused(ValueError):
    """Not an image we can read (the reason is for logs, the auditor gets a French text)."""


class PhotoTooHeavy(PhotoRefused):
    """More bytes than we take."""


class PhotoTooLarge(PhotoRefused):
    """More pixels than we take."""


async def download_capped(url: str, limit: int) -> bytes:
    """The bytes at ``url``, streamed; ``PhotoTooHeavy`` as soon as they pass ``limit``
    (a ``Content-Length`` over it is refused before any byte is read)."""
    chunks: list[bytes] = []
    total = 0
    async with (
        httpx.AsyncClient(timeout=60.0, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PhotoTooHeavy(f"Content-Length {declared} over {limit} bytes")
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > limit:
                raise PhotoTooHeavy(f"more than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)


def strip_metadata(data: bytes, max_pixels: int = MAX_PIXELS) -> bytes:
    """The image re-encoded without EXIF, XMP, ICC comments or thumbnails (JPEG or PNG).

    ``PhotoTooLarge`` past ``max_pixels``, checked before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooLarge(f"decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoRefused(f"unreadable image: {exc.__class__.__name__}") from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise PhotoTooLarge(f"{width} x {height} pixels, over {max_pixels}")
    try:
        with image:
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
