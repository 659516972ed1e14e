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


def diagnosis(rows: list[list], file_name: str, limit: int = 30) -> str:
    """One line, Chinese first: the closest kinds (judged as `profile suggest` judges them: synonyms,
    similar captions and their values) with their closest profile, the captions that matched, the
    signature captions missing, and the command that drafts a profile."""
    from pipelines.profiles.suggest import columns_of, header_of, rank_kinds

    cmd = f"xiangzhi profile suggest \"{file_name}\""
    rows = [list(r) for r in rows]
    if not any(len(header_cells(r)) >= 2 for r in rows[:limit]):
        return (f"未找到表头行（前{limit}行中没有可识别的表头）；可运行 {cmd} 生成导入方案草稿"
                f" / no header row found in the first {limit} rows; run {cmd} to draft an import profile")
    profiles = active()
    h, header, n = header_of(rows[:limit], {p.name for p in _excluded()})
    ranked = [t for t in rank_kinds(columns_of(header, rows[h + n:limit])) if t[1] > 0][:2]
    cells = header_cells(header)
    parts_zh, parts_en = [], []
    for kind, _, m in ranked:
        best = max((score(p, cells) for p in profiles if p.kind == kind), key=lambda s: s.closeness)
        src = best.profile.source
        matched = [header[i].strip() for i in sorted(m)]
        missing = "、".join(best.missing) or "无"
        parts_zh.append(f"最接近{src.label_zh}（{kind}，方案 {best.profile.name}）：相符表头 "
                        f"{'、'.join(matched[:8]) or '无'}；缺少识别表头 {missing}")
        parts_en.append(f"closest kind {kind} (profile {best.profile.name}): matched {', '.join(matched[:8]) or 'none'}; "
                        f"missing signature captions {', '.join(best.missing) or 'none'}")
    if not ranked:
        parts_zh, parts_en = ["没有相符的表头"], ["no caption matches any kind"]
    return (f"第{h + 1}行表头不足以识别：" + "；".join(parts_zh)
            + f"。可运行 {cmd} 生成导入方案草稿，补全 TODO 后放入 $XIANGZHI_HOME/profiles/"
            + f" / header row {h + 1} not recognised: " + "; ".join(parts_en)
            + f". Run {cmd} to draft an import profile, fill in its TODO lines and put it in $XIANGZHI_HOME/profiles/")


def _excluded():
    from pipelines import profiles

    return [p for p in profiles.installed(include_user=False) if p.name in profiles._EXCLUDED]
