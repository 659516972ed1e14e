"""Clerk accounts (信息员) and sign-in lockout in the dashboard, through Streamlit's AppTest, on the
hand-built published copy (townships 360726100 东山镇 and 360726200 西河乡)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from pipelines import users
from tests.apptest import APP, app
from tests.test_warehouse_scope import build_published

VIEWS = Path(APP).parent / "views"
PW = "clerk-password"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    home = tmp_path_factory.mktemp("clerk") / "home"
    build_published(home)
    h = users.hash_password(PW, 4)
    users.write_users(home / "users.yaml", [
        users.User("tc", "东山镇信息员", "clerk", "360726100", h),
        users.User("cc", "县信息员", "clerk", "360726", h),
        users.User("town", "东山镇", "township", "360726100", h),
    ])
    return home


@pytest.fixture
def home(base, tmp_path, monkeypatch):
    import shutil

    h = tmp_path / "home"
    shutil.copytree(base, h)
    monkeypatch.setenv("XIANGZHI_HOME", str(h))
    return h


def known_pages(at: AppTest) -> set[str]:
    """The pages the signed-in navigation offers (AppTest refuses to switch to any other)."""
    out = set()
    for view in sorted(VIEWS.glob("*.py")):
        try:
            at.switch_page(str(view))
        except ValueError:
            continue
        out.add(view.stem)
    return out


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def test_township_clerk_sees_upload_and_quality_of_its_township_only(home):
    at = sign_in(app(), "tc", PW)
    assert not at.exception
    assert at.title[0].value == "东山镇 · 数据导入"  # the clerk lands on the upload page
    assert "信息员" in at.sidebar.markdown[0].value
    assert known_pages(at) == {"upload", "quality"}
    assert "每个文件不超过 200 MB" in at.caption[0].value and "东山镇 360726100" in at.caption[0].value
    at.switch_page(str(VIEWS / "quality.py")).run()
    assert not at.exception and at.title[0].value == "东山镇 · 数据质量"
    grids = at.dataframe[0].value.iloc[:, 0].tolist()
    assert sorted(grids) == ["360726100001001", "360726100001002", "360726100002001", "360726100002002"]
    # bookkeeping without a division code is not shown to a township clerk
    assert [e.value for e in at.info] == ["导入批次、文件与隔离明细仅对县级账号开放。"]
    assert len(at.dataframe) == 1
    # the township picker is fixed to its own township
    assert at.sidebar.selectbox(key="township_fixed").disabled


def test_clerk_cannot_reach_another_township_by_editing_state(home):
    at = app("tc")
    at.switch_page(str(VIEWS / "quality.py"))
    at.session_state["township"] = "360726200"
    at.run()
    assert t("forbidden", "zh") in [e.value for e in at.error]
    grids = at.dataframe[0].value.iloc[:, 0].tolist()
    assert grids and all(g.startswith("360726100") for g in grids)


def test_county_clerk_sees_the_batches(home):
    at = app("cc")
    at.switch_page(str(VIEWS / "quality.py")).run()
    assert not at.exception
    assert len(at.dataframe) >= 4  # grids, batches, files, quarantine (+ validation)
    assert known_pages(at) == {"upload", "quality"}


def test_other_roles_have_no_upload_page(home):
    at = app("town")
    assert "upload" not in known_pages(at) and "overview" in known_pages(at)


def test_lockout_message_in_the_form_for_real_and_unknown_names(home):
    at = app()
    for _ in range(4):
        sign_in(at, "tc", "wrong")
        assert [e.value for e in at.error] == ["用户名或密码错误"]
    sign_in(at, "tc", "wrong")
    [locked] = [e.value for e in at.error]
    assert locked.startswith("密码错误次数过多，该账号已锁定至 ")
    sign_in(at, "tc", PW)  # the right password does not open a locked account
    assert "username" not in at.session_state and at.error[0].value.startswith("密码错误次数过多")
    ghost = app()
    for _ in range(5):
        sign_in(ghost, "nobody", "wrong")
    assert ghost.error[0].value.split("至")[0] == locked.split("至")[0]  # same words: existence not told
    audit = (home / "auth" / "signin_audit.log").read_text(encoding="utf-8").splitlines()
    assert [ln.split("\t")[1:] for ln in audit].count(["tc", "failed"]) == 4
    assert ["nobody", "failed; locked"] in [ln.split("\t")[1:] for ln in audit]
