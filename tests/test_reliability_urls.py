"""Bad URLs: unknown names, malformed and reversed months, 10,000 characters, SQL fragments and
repeated parameters each give a Chinese notice and the default view — never an exception, and
the text never reaches SQL (only known values are bound as parameters)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from governance import db
from governance.labels import md_escape
from tests.browser import expect_text

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["pages/1_overview.py", "pages/2_coverage.py", "pages/3_organizations.py", "pages/4_tickets.py"]
HOSTILE = "' OR 1=1 --"
LONG = "江" * 10_000

# (query parameters, words the notice must contain, expected scope caption, expected period); the
# notice is Markdown, so URL text in it is escaped (md_escape) and reads as typed
CASES = {
    "unknown community": ({"community": "不存在社区"}, "“不存在社区”在所选范围内不存在", "全部社区", "2022-09 至 2023-08"),
    "sql fragment": ({"community": HOSTILE}, f"“{md_escape(HOSTILE)}”在所选范围内不存在", "全部社区", "2022-09 至 2023-08"),
    "sql in street": ({"street": "x'; DROP TABLE tickets; --"}, "在所选范围内不存在", "全部社区", "2022-09 至 2023-08"),
    "ten thousand characters": ({"community": LONG}, "社区参数过长，已忽略", "全部社区", "2022-09 至 2023-08"),
    "malformed from": ({"from": "2023年6月"}, "起始月份“2023年6月”格式不对", "全部社区", "2022-09 至 2023-08"),
    "malformed to": ({"to": "2023-13"}, f"截止月份“{md_escape('2023-13')}”格式不对", "全部社区", "2022-09 至 2023-08"),
    "long month": ({"from": "9" * 10_000}, "起始月份", "全部社区", "2022-09 至 2023-08"),
    "reversed": ({"from": "2023-06", "to": "2023-02"}, "截止月份早于起始月份，已将两者对调", "全部社区", "2023-02 至 2023-06"),
    "out of range": ({"from": "1999-01", "to": "2099-12"}, "月份已调整到该范围内", "全部社区", "2021-01 至 2023-08"),
    "repeated": ({"community": ["江欣苑社区", "裕园社区"]}, "社区参数出现了 2 次，只使用第一个",
                 "湖北省 › 武汉市 › 汉阳区 › 江堤街道 › 江欣苑社区", "2022-09 至 2023-08"),
}


@pytest.fixture
def first_run(demo_db, monkeypatch):
    """The first run of a session opened on `page` with the URL's parameters (notices are shown
    on the run that reads the URL)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GOVERNANCE_DB", str(demo_db))

    def make(page, **params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in params.items():
            at.query_params[k] = v
        return at.switch_page(page).run()

    return make


@pytest.mark.parametrize("case", list(CASES))
def test_bad_url_gives_a_notice_and_a_sensible_view(first_run, case):
    params, notice, scope, period = CASES[case]
    for page in PAGES:
        at = first_run(page, **params)
        assert not at.exception, (page, at.exception)
        warnings = " ".join(w.value for w in at.warning)
        assert notice in warnings, (page, warnings)
        assert f"范围：{scope}" in at.caption[0].value and f"期间：{period}" in at.caption[0].value, at.caption[0].value
        assert len(at.metric) >= 2                       # the page still shows its indicators
        assert all(len(w.value) < 400 for w in at.warning)  # 10,000 characters are not echoed back


def test_url_text_never_reaches_sql(app, bound_text):
    """Every bound parameter is a known value or a date, whatever the URL carried."""
    seen = bound_text
    for page in PAGES:
        at = app(page, community=HOSTILE, street="x'; DROP TABLE tickets; --", **{"from": "2023-06' OR '1'='1"})
        if page.endswith("4_tickets.py"):   # its 举一反三 tab binds category names to its class queries
            at.session_state["tickets_tab"] = "举一反三"
            assert not at.run().exception
    assert seen, "the spy saw no query"
    assert not [v for v in seen if "'" in v or "--" in v]
    sqls = [db.load_sql(n) for n in db.all_query_names()]
    assert not [s for s in sqls if "OR 1=1" in s]


@pytest.mark.browser
def test_bad_urls_in_a_browser(open_url):
    cases = [
        (f"coverage?community={quote(HOSTILE)}", f"“{HOSTILE}”在所选范围内不存在"),   # rendered: as typed
        (f"tickets?community={quote(LONG)}", "社区参数过长，已忽略"),
        ("organizations?from=2023-06&to=2023-02", "截止月份早于起始月份，已将两者对调"),
        ("overview?community=江欣苑社区&community=裕园社区&from=abc", "社区参数出现了 2 次，只使用第一个"),
        ("?community=江欣苑社区&community=裕园社区", "社区参数出现了 2 次，只使用第一个"),   # the bare root too
    ]
    for path, notice in cases:
        page = open_url(path)
        expect_text(page, notice)
        page.locator("[data-testid='stMetric']").nth(1).wait_for(timeout=60_000)   # the indicators are drawn
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0, path
        assert page.get_by_text("Traceback").count() == 0
