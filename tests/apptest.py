"""One way to open the dashboard in Streamlit's AppTest for every test module: the app file, a
signed-in run (session state and URL query parameters set before the first run), and the page's
visible text."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def app(username: str | None = None, query: dict[str, str] | None = None, **state) -> AppTest:
    """The app run once as `username` (signed in through session state, as auth does after the form)."""
    at = AppTest.from_file(APP, default_timeout=60)
    if username:
        at.session_state["username"] = username
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def texts(at: AppTest) -> str:
    """Everything a reader sees as text: titles, markdown, captions, notices, subheaders, card labels."""
    parts = [e.value for e in at.title] + [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.subheader] + [m.label for m in at.metric]
    return "\n".join(str(p) for p in parts)
