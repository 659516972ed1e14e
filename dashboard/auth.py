"""The dashboard's name for the accounts code, which lives in pipelines/users.py (it needs no
Streamlit, and `xiangzhi users` and the demo use it too; pipelines never import dashboard/)."""

from pipelines.users import (  # noqa: F401  (re-exported for the dashboard and its tests)
    DEMO_PASSWORD,
    SignIn,
    User,
    UsersFileError,
    authenticate,
    hash_password,
    load_users,
    sign_in,
    users_path,
    verify,
    write_demo_users,
    write_users,
)
