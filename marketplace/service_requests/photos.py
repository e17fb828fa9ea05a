"""A resident's photo, made safe to keep and to show a helper.

A phone's picture carries more than the picture: EXIF with the GPS position of the home, the
camera's make and serial, the time it was taken; ICC profiles and comments. The file is decoded and
drawn again from its pixels alone, so nothing but the picture reaches the disk (and a helper), and a
file that only claims to be a picture is refused. The orientation EXIF asked for is applied to the
pixels first, so a photo taken upright still shows upright without its metadata.
"""

import io

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85


class NotAPhoto(ValueError):
    """The bytes are not a JPEG, PNG or WebP picture this app will keep."""


def reencode(photo: bytes) -> tuple[bytes, str]:
    """The picture re-encoded in its own format from its pixels only, and the file suffix."""
    try:
        with Image.open(io.BytesIO(photo)) as image:
            kind = image.format
            if kind not in FORMATS or image.width * image.height > MAX_PIXELS:
                raise NotAPhoto
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as error:
        raise NotAPhoto from error
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    mode = "RGB" if kind == "JPEG" or not has_alpha else "RGBA"
    if upright.mode == "L" and kind != "WEBP":
        mode = "L"
    clean = upright.convert(mode)  # a new image of the pixels...
    clean.info = {}  # ...without what the file said about them (EXIF, ICC profile, comments, XMP)
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue(), FORMATS[kind]
