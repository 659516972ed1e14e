"""Keyed hashing and masking of personal data (SPEC §3.7), used by normalisation and quarantine alike."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(value: str | None, key: bytes) -> str | None:
    """HMAC-SHA256 of a normalised value, hex, truncated to 20 chars (80 bits: unique at any scale here)."""
    if value is None or value == "":
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def mask_name(name: str | None) -> str | None:
    """张三丰 → 张**; several names separated by 、,， ; are masked one by one."""
    if name is None or name == "":
        return None
    import re

    parts = [p for p in re.split(r"[、,，;；/\s]+", name) if p]
    return "、".join(p[0] + "*" * max(1, len(p) - 1) for p in parts)
