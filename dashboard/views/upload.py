"""数据导入 Upload (clerk accounts): drop the month's files; the ingest runs in a background process
(pipelines/uploads.py starts `xiangzhi ingest --status … --scope …`); this page only follows its status
file, then shows the per-file summary and offers this upload's quarantined rows as an XLSX."""

import streamlit as st

from dashboard import auth
from dashboard.i18n import REASONS, join_names, lang, paren, t
from dashboard.state import current
from pipelines import uploads
from pipelines.errors import UserError
from pipelines.sources import SOURCES

c = current()
user = auth.load_users().get(c.username)
if user is None or not user.is_clerk:  # the navigation offers this page to clerks only
    st.error(t("upload_clerk_only"))
    st.stop()
st.title(t("upload_title", unit=c.unit.name))
st.caption(t("upload_help", mb=uploads.MAX_UPLOAD_MB, scope=f"{c.unit.name} {user.scope_code}"))

files = st.file_uploader(t("upload_files"), type=list(uploads.UPLOAD_TYPES), accept_multiple_files=True,
                         max_upload_size=uploads.MAX_UPLOAD_MB, key="upload_files")
if st.button(t("upload_start"), type="primary", disabled=not files, key="upload_start"):
    try:
        st.session_state["upload_id"] = uploads.start([(f.name, f.getvalue()) for f in files],
                                                      user.username, user.scope_code)
    except uploads.Busy:
        st.warning(t("upload_busy"))
    except UserError as e:
        st.error(str(e))


def _mine(upload_id: str | None) -> str | None:
    m = uploads.meta(upload_id) if upload_id else None
    return upload_id if m and str(m.get("scope", "")).startswith(user.scope_code) else None


# the upload to show: this session's, else the newest one of this scope (after a reload)
uid = _mine(st.session_state.get("upload_id"))
if uid is None:
    newest = uploads.recent(user.scope_code, limit=1)
    uid = newest[0]["upload_id"] if newest else None
busy = uploads.running()
if busy and _mine(busy["upload_id"]) is None:
    st.warning(t("upload_busy"))


def _phase_label(name: str) -> str:
    for p, _end, zh, en in uploads.PHASES:
        if p == name:
            return en if lang() == "en" else zh
    return name


@st.fragment(run_every=1.0)
def follow(upload_id: str) -> None:
    s = uploads.status(upload_id) or {}
    if s.get("state") in ("done", "failed"):
        st.rerun()  # the whole page: the summary below, the sidebar's new months
    st.progress(float(s.get("fraction") or 0.0), text=t("upload_running", phase=_phase_label(s.get("phase", "scope"))))
    st.caption(t("upload_keep"))


def summary_line(f: dict) -> str:
    i = 1 if lang() == "en" else 0
    kind = SOURCES[f["source_kind"]].label_en if i and f.get("source_kind") in SOURCES else (
        SOURCES[f["source_kind"]].label_zh if f.get("source_kind") in SOURCES else "")
    if f["status"] == "loaded":
        by = f.get("by_reason") or {}
        reasons = paren(join_names(f"{REASONS[k][i] if k in REASONS else k} {n}" for k, n in by.items())) if by else ""
        return t("upload_line_loaded", file=f["file_name"], kind=kind, read=f["rows_read"], loaded=f["rows_loaded"],
                 q=f["rows_quarantined"], reasons=reasons, dup=f["rows_duplicate"], nd=f["rows_non_data"])
    if f["status"] == "rejected":
        return t("upload_line_rejected", file=f["file_name"], reason=f.get("reason") or "")
    return t("upload_line_unchanged", file=f["file_name"])


if uid:
    s = uploads.status(uid) or {}
    if s.get("state") not in ("done", "failed"):
        follow(uid)
    elif s["state"] == "failed":
        st.error(t("upload_failed", msg=s.get("message", "")))
    else:
        st.success(t("upload_done", batch=s.get("batch_id") or "—", s=s.get("seconds", 0))
                   if s.get("batch_id") else t("upload_nothing_new"))
        st.subheader(t("upload_summary"))
        lines = [summary_line(f) for f in s.get("files", [])]
        lines += [t("upload_line_refused", file=r["file_name"], reason=r["reason"]) for r in s.get("refused", [])]
        st.markdown("\n".join(f"- {ln}" for ln in lines))
        q = uploads.quarantine_file(uid)
        if s.get("quarantine_rows") and q.exists():
            st.download_button(t("upload_quarantine", n=s["quarantine_rows"]), q.read_bytes(),
                               file_name=f"隔离行_{uid}.xlsx", key="upload_quarantine_xlsx",
                               mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        elif s.get("quarantine_error"):
            st.warning(s["quarantine_error"])
        elif s.get("batch_id"):
            st.info(t("upload_no_quarantine"))
