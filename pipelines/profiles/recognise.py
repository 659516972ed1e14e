"""Recognition (SPEC §3.8): score a header row against every profile; explain a file none fits.

A profile fits a header when all its signature captions are present. Among those that fit, the one
mapping the most columns wins; a tie between different kinds is not a recognition (the file is
rejected as ambiguous rather than loaded as the wrong kind). A file no profile fits is rejected with
the closest kinds and profiles, what matched, what signature captions are missing, and the command
that drafts a profile for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.profiles import Profile, active, caption_key


@dataclass(frozen=True)
class Score:
    profile: Profile
    fits: bool
    matched: tuple[str, ...]  # captions of the header that the profile maps, as written
    missing: tuple[str, ...]  # signature captions absent
    closeness: float  # 0…1: share of signature present, then of the profile's fields mapped


def header_cells(cells) -> list[str]:
    return [str(c) for c in cells if c is not None and str(c).strip()]


def score(profile: Profile, cells: list[str]) -> Score:
    keys = {caption_key(c): c for c in cells}
    present = [g for g in profile.signature if any(k in keys for k in g)]
    missing = tuple(t for g, t in zip(profile.signature, profile.signature_text, strict=True) if g not in present)
    matched = tuple(c for k, c in keys.items() if k in profile.captions)
    fields = {profile.captions[caption_key(c)] for c in matched}
    n_fields = max(1, len(set(profile.captions.values())))
    closeness = 0.7 * len(present) / max(1, len(profile.signature)) + 0.3 * len(fields) / n_fields
    return Score(profile, not missing, matched, missing, closeness)


def recognise(cells, profiles: list[Profile] | None = None) -> Profile | None:
    """The profile this header row is in, or None (no fit, or a tie between kinds)."""
    cells = header_cells(cells)
    if len(cells) < 2:
        return None
    fits = [s for s in (score(p, cells) for p in (profiles or active())) if s.fits]
    if not fits:
        return None
    def n(s):
        return len({s.profile.captions[caption_key(c)] for c in s.matched})
    best = max(n(s) for s in fits)
    top = [s for s in fits if n(s) == best]
    if len({s.profile.kind for s in top}) > 1:
        return None
    # Same kind: an office's or shipped profile is more specific than the built-in one.
    from pipelines import profiles as _p

    top.sort(key=lambda s: (s.profile.name != _p.PREFERRED, s.profile.builtin, s.profile.name))
    return top[0].profile


def best_row(rows: list[list], limit: int = 30, profiles: list[Profile] | None = None) -> tuple[int, list[Score]] | None:
    """The row (among the first `limit`) that comes closest to some profile, with every profile's score."""
    profiles = profiles or active()
    best = None
    for i, cells in enumerate(rows[:limit]):
        cells = header_cells(cells)
        if len(cells) < 2:
            continue
        scores = sorted((score(p, cells) for p in profiles), key=lambda s: -s.closeness)
        if scores and (best is None or scores[0].closeness > best[1][0].closeness):
            best = (i, scores)
    return best
