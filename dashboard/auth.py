"""The dashboard's name for the accounts code, which lives in pipelines/users.py (it needs no
Streamlit, and `xiangzhi users` and the demo use it too; pipelines never import dashboard/)."""

from pipelines.users import (  # noqa: F401  (re-exported for the dashboard and its tests)
    DEMO_PASSWORD,
    SESSION_COOKIE,
    SIGN_IN_ROUTE,
    SIGN_OUT_ROUTE,
    SignIn,
    User,
    UsersFileError,
    authenticate,
    grant_binding,
    hash_password,
    issue_grant,
    issue_token,
    load_users,
    redeem_grant,
    revoke_token,
    sign_in,
    token_expiry,
    users_path,
    verify,
    verify_token,
    write_demo_users,
    write_users,
)


def served() -> bool:
    """True in a real dashboard server. AppTest runs scripts with no browser, no cookies and a mock
    Runtime in place of the real one (so runtime.exists() is True there too): only there does the
    session's own "username" stand for a sign-in (tests set it), and downloads are built at once."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime
