"""Page images for the viewer: rendered on first view in the sandboxed child, then kept.

Images live under UPLOAD_DIR/pages/<sha[:2]>/<sha256>/<page>-<size>.png, beside the
originals they come from (the store's own listing ignores this folder). They are derived
data: deleting the folder only costs a render on the next view. Access is checked by the
view before this module is asked for anything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app

from .. import extract
from ..extract.render import render_png
from ..extract.sandbox import run_limited
from ..models import Document

# Widths in pixels: a thumbnail strip, and a page to read beside its text (zoom scales it).
SIZES = {"thumb": 160, "read": 1200}
RENDER_CPU_SECONDS = 30


def has_images(document: Document) -> bool:
    return document.mime in extract.PAGED and document.page_count > 0


def cache_path(document: Document, number: int, size: str) -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]) / "pages"
    return root / document.sha256[:2] / document.sha256 / f"{number}-{size}.png"


def page_image(document: Document, number: int, size: str) -> Path:
    """The PNG of page `number` at `size`, rendering it now if it is not cached yet.

    Raises ExtractionError when the page cannot be rendered (the view answers 404)."""
    target = cache_path(document, number, size)
    if target.exists():
        return target
    from .ingest import store

    config = current_app.config
    data = run_limited(
        render_png, str(store().path_for(document.sha256)), document.mime, number,
        SIZES[size], cpu_seconds=min(RENDER_CPU_SECONDS, config["EXTRACT_TIMEOUT"]),
        memory_mb=config["EXTRACT_MEMORY_MB"],
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: two readers racing on one page never see half a file.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".render-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(name, target)
    return target
