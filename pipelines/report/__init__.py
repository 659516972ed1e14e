"""The monthly meeting pack 月度考评通报 (SPEC §8): a PDF and an XLSX for a month and an area.

- ``build_pack(period, township, out)`` — what `xiangzhi report` calls: the county office's pack
  (the whole county, or one township), written to ``out`` (default ``$XIANGZHI_HOME/reports``).
- ``render_pack(scope, period, unit_code)`` — the same pack as bytes for a signed-in scope (the
  dashboard's 月度考评 page): a township account can only ever get its own township's pack.

Everything is read from the published copy through pipelines.warehouse (data.py); pdf.py and
xlsx.py only lay the gathered figures out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipelines import config
from pipelines import warehouse as wh
from pipelines.errors import UserError
from pipelines.report.data import PackData, check_period, check_township, collect, county_scope

__all__ = ["Pack", "PackData", "build_pack", "build_worker_sheets", "collect", "render_pack"]


@dataclass(frozen=True)
class Pack:
    stem: str  # file name without extension
    pdf: bytes
    xlsx: bytes
    data: PackData

    @property
    def pdf_name(self) -> str:
        return self.stem + ".pdf"

    @property
    def xlsx_name(self) -> str:
        return self.stem + ".xlsx"


def file_stem(data: PackData) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", data.unit.name)
    return f"月度考评_{data.period}_{data.unit.code}_{safe}"


def render_pack(scope: wh.Scope, period: str, unit_code: str | None = None, *, now: datetime | None = None) -> Pack:
    from pipelines.report.pdf import render_pdf
    from pipelines.report.xlsx import render_xlsx

    data = collect(scope, period, unit_code, now=now)
    return Pack(stem=file_stem(data), pdf=render_pdf(data), xlsx=render_xlsx(data), data=data)


def build_pack(period: str, township: str | None = None, out: Path | None = None) -> list[Path]:
    """Write the pack's PDF and XLSX and return their paths. Unknown period or township, or no
    published data, raise UserError (printed by the CLI as one line, exit code 2)."""
    scope = _checked(period, township)
    pack = render_pack(scope, period, township)
    return _write(out, [(pack.pdf_name, pack.pdf), (pack.xlsx_name, pack.xlsx)])


def build_worker_sheets(period: str, township: str | None = None, out: Path | None = None) -> list[Path]:
    """`xiangzhi report workers`: only the grid workers' 张榜公示 sheets (SPEC §6.1), one page per
    village, as a PDF and an XLSX for posting."""
    from pipelines.report.workers import render_sheets

    scope = _checked(period, township)
    s = render_sheets(scope, period, township)
    return _write(out, [(s.stem + ".pdf", s.pdf), (s.stem + ".xlsx", s.xlsx)])


def _checked(period: str, township: str | None) -> wh.Scope:
    if township is not None and not re.fullmatch(r"\d{9}", township):
        raise UserError(f"乡镇代码应为 9 位数字 / a township code has 9 digits, got {township!r}")
    scope = county_scope()
    check_period(scope, period)
    check_township(scope, township)
    return scope


def _write(out: Path | None, files: list[tuple[str, bytes]]) -> list[Path]:
    out = Path(out) if out is not None else config.paths().reports
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, blob in files:
        p = out / name
        tmp = p.with_name(p.name + ".part")
        tmp.write_bytes(blob)
        tmp.replace(p)  # a reader never sees half a file
        paths.append(p)
    return paths
