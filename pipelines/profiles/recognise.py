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
    top.sort(key=lambda s: (s.profile.builtin, s.profile.name))
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
    """One line, Chinese first: the closest kinds and profiles, what matched, what is missing, what to do."""
    found = best_row(rows, limit)
    cmd = f"xiangzhi profile suggest \"{file_name}\""
    if found is None or found[1][0].closeness == 0:
        return (f"未找到表头行（前{limit}行中没有可识别的表头）；可运行 {cmd} 生成导入方案草稿"
                f" / no header row found in the first {limit} rows; run {cmd} to draft an import profile")
    i, scores = found
    kinds: list[str] = []
    parts_zh, parts_en = [], []
    for s in scores:
        if s.closeness == 0 or s.profile.kind in kinds or len(kinds) >= 2:
            continue
        kinds.append(s.profile.kind)
        src = s.profile.source
        matched = "、".join(s.matched[:6]) or "无"
        missing = "、".join(s.missing) or "无"
        parts_zh.append(f"最接近{src.label_zh}（{s.profile.kind}，方案 {s.profile.name}，"
                        f"{s.closeness:.0%}）：相符表头 {matched}；缺少识别表头 {missing}")
        parts_en.append(f"closest: {s.profile.kind} (profile {s.profile.name}, {s.closeness:.0%}), "
                        f"matched {', '.join(s.matched[:6]) or 'none'}, missing signature captions "
                        f"{', '.join(s.missing) or 'none'}")
    tie = [s for s in scores if s.fits]
    why_zh = "与多个数据类型同样相符，无法判断" if tie else "不足以识别"
    why_en = "fits several kinds equally" if tie else "not enough to recognise"
    return (f"第{i + 1}行表头{why_zh}：" + "；".join(parts_zh)
            + f"。可运行 {cmd} 生成导入方案草稿，补全 TODO 后放入 $XIANGZHI_HOME/profiles/"
            + f" / header row {i + 1} {why_en}: " + "; ".join(parts_en)
            + f". Run {cmd} to draft an import profile, fill in its TODO lines and put it in $XIANGZHI_HOME/profiles/")
