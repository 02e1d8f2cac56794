"""Marking interface text for translation (the Welsh catalogue, inquiry_docs/translations).

`_` translates now, in the request's language; `_l` when the text is used (module-level
messages); `N_` only marks an English text kept as data (a stored reason, say) so that the
page showing it can translate it with `_(text)`. Outside a request all give English.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

__all__ = ["N_", "_", "_l", "ngettext"]


def N_(text: str) -> str:
    """`text` unchanged; `make translations` gathers it for the catalogue."""
    return text
