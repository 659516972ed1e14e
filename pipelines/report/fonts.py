"""Find a CJK font on this machine for the PDF (embedded, subset by fpdf2) and the charts.

Debian's fonts-noto-cjk ships TrueType collections (.ttc) holding the JP, KR, SC, TC and HK faces;
fpdf2 takes the face by its index in the collection, so the Simplified Chinese face is picked by
name, not assumed. fonts-wqy-microhei (one face) is the small alternative. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UserError

# Preference order: family name as fontconfig knows it.
FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Sans SC")
SEARCH_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
FILE_HINTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "wqy-microhei.ttc", "NotoSansSC-Regular.otf")


@dataclass(frozen=True)
class Face:
    path: Path
    index: int  # face number inside a .ttc collection (0 for single fonts)
    family: str


@dataclass(frozen=True)
class CjkFonts:
    regular: Face
    bold: Face  # the regular face again when no bold is installed


def _face_index(path: Path, family: str) -> int | None:
    """Index of the face named `family` in a collection (None when absent)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() == ".ttc":
            fonts = TTCollection(str(path), lazy=True).fonts
        else:
            fonts = [TTFont(str(path), lazy=True)]
    except Exception:  # an unreadable font file is simply not a candidate
        return None
    for i, f in enumerate(fonts):
        names = {str(n) for n in f["name"].names if n.nameID in (1, 16)}
        if family in names:
            return i
    return None


def _fc_match(pattern: str) -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    p = Path(out.stdout.strip())
    return p if out.returncode == 0 and p.is_file() else None


def _candidates(style: str):
    for fam in FAMILIES:
        p = _fc_match(f"{fam}:style={style}")
        if p:
            yield p, fam
    for d in SEARCH_DIRS:
        if d.is_dir():
            for hint in FILE_HINTS:
                name = hint.replace("Regular", style)
                for p in sorted(d.rglob(name)):
                    for fam in FAMILIES:
                        yield p, fam


def _find(style: str) -> Face | None:
    for path, fam in _candidates(style):
        idx = _face_index(path, fam)
        if idx is not None:
            return Face(path, idx, fam)
    return None


@functools.cache
def cjk_fonts() -> CjkFonts:
    regular = _find("Regular")
    if regular is None:
        raise UserError(
            "找不到中文字体，无法生成 PDF；请安装 fonts-noto-cjk 或 fonts-wqy-microhei / no CJK font found: "
            "install fonts-noto-cjk (or fonts-wqy-microhei)"
        )
    bold = _find("Bold")
    if bold is None or bold.family != regular.family:
        bold = regular
    return CjkFonts(regular, bold)
