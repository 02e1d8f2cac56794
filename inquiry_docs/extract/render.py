"""Pages as pictures: PDF pages through PDFium, image files (and TIFF frames) through Pillow.

Runs in the sandboxed child like every parser: a rendered page is a decoded bitmap, and a
hostile file can ask for a huge one. Pillow's own bomb check is kept on, with a stated limit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageOps, UnidentifiedImageError

from .reasons import RENDER_FAILED, plain_failures, technical
from .types import IMAGES, PDF, ExtractionError

# 120 megapixels: an A0 sheet scanned at 300 dpi is ~140; a 20,000 x 20,000 bomb is 400.
MAX_PIXELS = 120_000_000
BAD_IMAGE = "The image is damaged or incomplete and could not be read."
TOO_BIG = "The image is larger than the safe limit (possible decompression bomb)."
POINTS_PER_INCH = 72


@contextmanager
def open_image(path: str) -> Iterator[Image.Image]:
    """Pillow's image, with damage and bombs turned into reasons for users."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as image:
            yield image
    except Image.DecompressionBombError as exc:
        raise ExtractionError(TOO_BIG, detail=technical(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ExtractionError(BAD_IMAGE, detail=technical(exc)) from exc


def frame_count(image: Image.Image) -> int:
    return getattr(image, "n_frames", 1)


def _image_frame(path: str, number: int) -> Image.Image:
    with open_image(path) as image:
        if not 1 <= number <= frame_count(image):
            raise ExtractionError(f"The file has no page {number}.")
        image.seek(number - 1)
        # EXIF orientation first: phones and some scanners store pictures on their side.
        return ImageOps.exif_transpose(image).convert("L")


def _pdf_page(path: str, number: int, dpi: int) -> Image.Image:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(RENDER_FAILED, detail=technical(exc)) from exc
    try:
        if not 1 <= number <= len(pdf):
            raise ExtractionError(f"The file has no page {number}.")
        page = pdf[number - 1]
        width, height = page.get_size()
        if width * height * (dpi / POINTS_PER_INCH) ** 2 > MAX_PIXELS:
            dpi = int(POINTS_PER_INCH * (MAX_PIXELS / (width * height)) ** 0.5)
        bitmap = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True)
        return bitmap.to_pil().convert("L")
    except pdfium.PdfiumError as exc:  # one page PDFium cannot load
        raise ExtractionError(RENDER_FAILED, detail=technical(exc)) from exc
    finally:
        pdf.close()


def page_image(path: str, mime: str, number: int, dpi: int = 300) -> Image.Image:
    """Page `number` (1-based) as a greyscale image; `dpi` applies to PDF pages."""
    if mime == PDF:
        return _pdf_page(path, number, dpi)
    if mime in IMAGES:
        return _image_frame(path, number)
    raise ExtractionError("Pages of this kind of file cannot be shown as images.")


@plain_failures(RENDER_FAILED)
def render_png(path: str, mime: str, number: int, width: int) -> bytes:
    """Page `number` as a PNG `width` pixels wide (never enlarged), for the viewer."""
    # A little over the resolution that makes an A4 page (8.27 inches) `width` wide, then
    # scaled down: PDFium rounds sizes, and the viewer lays pages out by this width.
    dpi = max(36, min(300, int(width / 8.27 * 1.05) + 1))
    image = page_image(path, mime, number, dpi)
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()
