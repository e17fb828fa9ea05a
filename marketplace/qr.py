"""QR codes drawn on the server as inline SVG: sharp at any size, no image files, no CDN."""

import re

import qrcode
import qrcode.image.svg
from markupsafe import Markup

_SIZE_ATTRS = re.compile(r'\s(width|height)="[^"]*"')


def qr_svg(data: str, label: str = "") -> Markup:
    """An <svg> that scales to its container (the CSS sets the size), with a white quiet zone
    so phone cameras and scanners lock on quickly."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    svg = image.to_string(encoding="unicode")
    svg = svg[svg.index("<svg"):]
    svg = _SIZE_ATTRS.sub("", svg, count=2)
    accessible = f' role="img" aria-label="{Markup.escape(label)}" class="qr"' if label else ' class="qr" aria-hidden="true"'
    return Markup(svg.replace("<svg", "<svg" + accessible, 1))
