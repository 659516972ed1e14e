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
