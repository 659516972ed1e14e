"""The dashboard under load (#19 item 8): N concurrent sessions sign in and open every page, driven
by a light client that speaks Streamlit's own websocket protocol (protobuf BackMsg / ForwardMsg over
/_stcore/stream), so the figures are the server's, not ten browsers' competing for the same cores.

    nice -n 10 .venv/bin/python -m benchmarks.load_sessions --home /path/to/published/home \
        [--sessions 1,5,10,20] [--user county] [--password xiangzhi-demo] [--url http://host:port]

With --home a server is started (`xiangzhi dashboard` on a free port) and stopped; with --url an
already running one is used. Per page: p50 / p95 of the time from the rerun request to the script's
end (every element delivered), and the sign-in time (the form with bcrypt, the grant route, the
first signed-in run). `Session` and `sign_in` are also the raw client of tests/test_session*.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import text_format
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect  # a dependency of streamlit itself

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "xiangzhi_session"  # pipelines.users.SESSION_COOKIE (not imported: a client knows only HTTP)
DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float
    elements: list = field(default_factory=list)  # Element protos, in order
    text: str = ""  # every element as UTF-8 text format (what a user could read, and more)
    pages: dict = field(default_factory=dict)  # url_pathname → page_script_hash (from navigation)
    exception: bool = False


class Session:
    """One websocket session. `cookie` is the session cookie's value (None: a client without it);
    `session_id` is presented as the third Sec-WebSocket-Protocol entry, as the browser does on a
    reconnect (and as an attacker replaying a victim's id would)."""

    def __init__(self, url: str, cookie: str | None = None, session_id: str | None = None,
                 timeout: float = 120):
        ws_url = url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/_stcore/stream"
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        protocols = ["streamlit", "xsrf-none"] + ([session_id] if session_id else [])
        self.timeout = timeout
        self.ws = connect(ws_url, subprotocols=protocols, additional_headers=headers,
                          open_timeout=timeout, max_size=None, compression=None,
                          legacy=True)  # a plain object, closed by close()
        self.session_id: str | None = None
        self.pages: dict[str, str] = {}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, page: str | None = None, widgets: list | None = None) -> Run:
        """Ask for a rerun (of `page`, a url path such as "map", else the current one) and read the
        messages until the script ends; a st.rerun() inside is followed to the run that finishes."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        if page is not None:
            cs.page_script_hash = self.pages.get(page, "")
            cs.page_name = page
        for w in widgets or []:
            cs.widget_states.widgets.append(w)
        t0 = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        out = Run(0.0)
        texts: list[str] = []
        deadline = time.monotonic() + self.timeout
        while True:
            raw = self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
                out.elements.clear()
                texts.clear()
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                out.elements.append(el)
                out.exception |= el.WhichOneof("type") == "exception"
                texts.append(text_format.MessageToString(el, as_utf8=True))
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
                out.pages = dict(self.pages)
            elif kind == "script_finished" and fm.script_finished in DONE:
                break
        out.seconds = time.perf_counter() - t0
        out.text = "\n".join(texts)
        return out


def widget_id(run: Run, kind: str, *, key: str | None = None, label: str | None = None) -> str:
    for el in run.elements:
        if el.WhichOneof("type") == kind:
            w = getattr(el, kind)
            if (key and w.id.endswith("-" + key)) or (label and w.label == label):
                return w.id
    raise LookupError(f"no {kind} widget {key or label!r} in the run")


def submit_sign_in(session: Session, first: Run, username: str, password: str) -> Run:
    """Fill and submit the sign-in form of `first` (a run that shows it), as the browser would."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = []
    for key, value in (("login_user", username), ("login_password", password)):
        w = WidgetState(id=widget_id(first, "text_input", key=key))
        w.string_value = value
        states.append(w)
    submit = next(el.button.id for el in first.elements
                  if el.WhichOneof("type") == "button" and el.button.is_form_submitter)
    states.append(WidgetState(id=submit, trigger_value=True))
    return session.run(widgets=states)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def http_get(url: str, cookie: str | None = None) -> tuple[int, dict[str, list[str]], str]:
    """GET without following redirects: (status, headers (lower-case name → values), Location)."""
    req = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        resp = opener.open(req, timeout=60)
    except urllib.error.HTTPError as e:  # a 303 arrives here when redirects are not followed
        resp = e
    headers: dict[str, list[str]] = {}
    for k, v in resp.headers.items():
        headers.setdefault(k.lower(), []).append(v)
    return resp.status if hasattr(resp, "status") else resp.code, headers, resp.headers.get("Location", "")


def cookie_from(headers: dict[str, list[str]]) -> str | None:
    for line in headers.get("set-cookie", []):
        name, _, rest = line.partition("=")
        if name.strip() == COOKIE:
            return rest.split(";", 1)[0].strip().strip('"') or None
    return None


def grant_url(run: Run) -> str | None:
    m = re.search(r"(/xiangzhi/signin\?grant=[A-Za-z0-9_\-]+)", run.text)
    return m.group(1) if m else None


def sign_in(url: str, username: str, password: str) -> tuple[str, dict[str, float]]:
    """The whole sign-in a browser does: the form (bcrypt) → the grant route (sets the cookie) →
    the first signed-in run. Returns (cookie value, {step: seconds})."""
    times: dict[str, float] = {}
    with Session(url) as s:
        first = s.run()
        submitted = submit_sign_in(s, first, username, password)
        times["form"] = first.seconds + submitted.seconds
    path = grant_url(submitted)
    if path is None:
        raise RuntimeError("sign-in gave no grant: " + submitted.text[-500:])
    t0 = time.perf_counter()
    _status, headers, _loc = http_get(url.rstrip("/") + path)
    times["route"] = time.perf_counter() - t0
    cookie = cookie_from(headers)
    if cookie is None:
        raise RuntimeError("the sign-in route set no cookie")
    return cookie, times


# ---------------------------------------------------------------------------------------------
# the load run

def one_user(url: str, username: str, password: str, pages: list[str] | None, out: dict, lock,
             barrier: threading.Barrier | None = None) -> None:
    rec: dict = {}
    try:
        try:
            cookie, steps = sign_in(url, username, password)
            with Session(url, cookie=cookie) as s:
                landing = s.run()
                rec = {"sign_in": sum(steps.values()) + landing.seconds}
                if barrier is not None:  # pages are timed once every session is in, not amid sign-ins
                    barrier.wait()
                    barrier = None
                _pages(s, pages or list(landing.pages), rec)
        finally:
            if barrier is not None:
                barrier.abort()  # a failed sign-in must not leave the others waiting
    except Exception as exc:  # noqa: BLE001 - a failed session is counted, the others go on
        rec = {"_failed": f"{type(exc).__name__}: {exc}"[:200]}
    with lock:
        out.setdefault("records", []).append(rec)


def _pages(s: Session, pages: list[str], rec: dict) -> None:
    for page in pages:
        r = s.run(page)
        rec[page or "overview"] = r.seconds  # the default page's url path is ""
        if r.exception:
            rec.setdefault("_errors", []).append(page)


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def load(url: str, sessions: int, username: str, password: str, pages: list[str] | None = None,
         together: bool = True) -> dict:
    """`sessions` users at once: each signs in, then opens every page once, in order. With
    `together`, the pages start when every session has signed in (sign-ins are bcrypt-bound and
    would otherwise be measured inside the first pages' times)."""
    out: dict = {}
    lock = threading.Lock()
    barrier = threading.Barrier(sessions) if together else None
    threads = [threading.Thread(target=one_user, args=(url, username, password, pages, out, lock, barrier))
               for _ in range(sessions)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out["wall"] = time.perf_counter() - t0
    return out


def summarise(out: dict) -> dict[str, tuple[float, float]]:
    by: dict[str, list[float]] = {}
    for rec in out.get("records", []):
        for k, v in rec.items():
            if not k.startswith("_"):
                by.setdefault(k, []).append(v)
    return {k: (pct(v, 50), pct(v, 95)) for k, v in by.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(home: Path):
    port = _free_port()
    env = dict(os.environ, XIANGZHI_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "dashboard", "--port", str(port)],
                            env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                    break
            time.sleep(0.3)
        else:
            raise RuntimeError("the dashboard did not start")
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="data home to serve (a server is started and stopped)")
    ap.add_argument("--url", help="an already running dashboard")
    ap.add_argument("--sessions", default="1,5,10,20")
    ap.add_argument("--user", default="county")
    ap.add_argument("--password", default="xiangzhi-demo")
    ap.add_argument("--pages", help="comma-separated url paths (default: every page the user has)")
    ap.add_argument("--warm", action="store_true", help="one untimed session first (caches, imports)")
    ap.add_argument("--staggered", action="store_true",
                    help="each session opens its pages as soon as it is signed in (not all together)")
    a = ap.parse_args(argv)
    if not (a.home or a.url):
        ap.error("--home or --url")
    pages = a.pages.split(",") if a.pages else None
    with contextlib.ExitStack() as stack:
        url = a.url or stack.enter_context(server(a.home))[0]
        if a.warm:
            load(url, 1, a.user, a.password, pages)
        for n in [int(x) for x in a.sessions.split(",")]:
            out = load(url, n, a.user, a.password, pages, together=not a.staggered)
            failed = [r["_failed"] for r in out["records"] if "_failed" in r]
            errors = sorted({p for r in out["records"] for p in r.get("_errors", [])})
            print(f"\n== {n} sessions (wall {out['wall']:.1f} s; failed {len(failed)}"
                  f"{'; page exceptions: ' + ', '.join(errors) if errors else ''}) ==")
            for f in failed[:3]:
                print("   failed:", f)
            for k, (p50, p95) in summarise(out).items():
                print(f"  {k:<14} p50 {p50:6.2f} s   p95 {p95:6.2f} s")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
