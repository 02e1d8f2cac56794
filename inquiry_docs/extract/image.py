"""Scanned images (PNG, JPEG, TIFF with any number of pages) as documents.

Extraction only proves every page decodes and counts them: the text comes from OCR,
which the job runs afterwards on each page (see inquiry_docs/ocr.py).
"""

from __future__ import annotations

from .reasons import technical
from .render import BAD_IMAGE, frame_count, open_image
from .types import Extracted, ExtractionError


def extract(path: str) -> Extracted:
    with open_image(path) as image:
        count = frame_count(image)
        for index in range(count):
            try:
                image.seek(index)
                image.load()  # decode now: a truncated scan fails here, with a reason
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise ExtractionError(BAD_IMAGE, detail=technical(exc)) from exc
    return Extracted(pages=[(number, "") for number in range(1, count + 1)],
                     page_label="page")
