"""Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits).

Compatible with the usual authenticator apps. Pure functions: the caller keeps the secret
and the last step used, so a code cannot be used twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side of now, for clock drift and typing time
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends


def generate_secret() -> str:
    """A new random secret, base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = "".join(secret.split()).upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 HOTP value for one counter."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % (10**digits)).zfill(digits)


def step_at(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_at(secret: str, now: float | None = None, digits: int = DIGITS) -> str:
    """The code an authenticator app shows at `now` (Unix seconds; default: the current time)."""
    return hotp(_key(secret), step_at(now), digits)


def normalise(code: str) -> str:
    """Drop the spaces and hyphens people type or paste between groups of digits."""
    return "".join(ch for ch in code if ch not in " -\t")


def verify(
    secret: str,
    code: str,
    *,
    now: float | None = None,
    last_step: int | None = None,
    window: int = WINDOW,
) -> int | None:
    """The time step the code belongs to, or None if it is wrong, stale or already used.

    Only steps after `last_step` count, so the same code (or an older one) cannot be
    replayed once it has been accepted.
    """
    code = normalise(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    try:
        key = _key(secret)
    except (ValueError, TypeError):
        return None
    current = step_at(now)
    for step in range(current - window, current + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, account: str, issuer: str = "Inquiry Docs") -> str:
    """The otpauth:// address authenticator apps accept (usually as a QR code)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
