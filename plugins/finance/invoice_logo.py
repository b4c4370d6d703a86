"""The company logo printed on invoices: an uploaded image, checked by decoding it and stored
re-encoded as PNG under the upload folder (``finance/invoice-logo.png``), so nothing but pixels
is ever served back."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from erp_core.errors import DomainError

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 1200
MAX_PIXELS = 25_000_000  # decoded size: about 100 MB in RGBA


class LogoRefused(DomainError):
    code = "logo_refused"
    status = 422


def logo_path() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "finance" / "invoice-logo.png"


def save_logo(stream) -> None:
    """Decode the uploaded image, shrink it to at most MAX_SIDE pixels a side and store it as PNG."""
    from PIL import Image, UnidentifiedImageError

    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise LogoRefused(_("The image is larger than 2 MB."), field="logo")
    try:
        with Image.open(BytesIO(data)) as probe:
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise LogoRefused(_("Only images (PNG, JPEG, GIF, WebP)."), field="logo")
            # a flat image of 13000 x 13000 compresses under 2 MB but decodes to ~680 MB
            if image.width * image.height > MAX_PIXELS:
                raise LogoRefused(_("The image has too many pixels: at most 25 million."), field="logo")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = BytesIO()
            image.convert("RGBA").save(out, "PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise LogoRefused(_("This file is not an image that can be read."), field="logo") from None
    path = logo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_bytes(out.getvalue())
    scratch.replace(path)


def remove_logo() -> None:
    logo_path().unlink(missing_ok=True)


def logo_bytes() -> bytes | None:
    """The stored logo (PNG), or None."""
    path = logo_path()
    return path.read_bytes() if path.is_file() else None
