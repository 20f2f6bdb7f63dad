"""The benchmark's browser section: what users wait for, measured in headless Chromium.

The dashboard (`streamlit run app.py` on the benchmark's database) and the floor page
(scripts/floor_page.py: one small Plotly chart, nothing else) are served side by side in the same
run. Every page at every selection the benchmark uses, plus 社区对比 with 3 and with 8 communities
(and in 培训模式), is loaded in a fresh browser context (no cache, no session), each load
followed by a load of the floor page, so both see the same machine at the same moment:

- cold: the first load of that URL since the server started (its queries not yet cached);
- warm: the median of the next loads (fresh contexts again: only the server's caches help);
- floor: the median of the floor loads interleaved with this URL's loads;
- bytes: what the browser received for the page (every HTTP response's encoded length, as
  Chromium's DevTools protocol reports it, plus every websocket frame from the server); the
  websocket part is the page itself (the rest is Streamlit's JavaScript, the same for every page).

On a page whose sections are tabs (ui.lazy_tabs: only the chosen tab runs), each load then chooses
the other tabs in turn and times each from the click until that tab is finished (after the cold load:
the tab's queries are not yet cached; after a warm load: they are); a fresh context's first view of
a tab also loads the code of the elements that only it shows.

A load is finished when the script has finished running, nothing on the page is stale, no element
is still the grey placeholder Streamlit shows while that element's code loads, and every Plotly chart
has drawn its SVG.
"""

from __future__ import annotations

import base64
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
FLOOR_SCRIPT = ROOT / "scripts" / "floor_page.py"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TARGETS = {"warm_over_floor": 0.5, "cold_over_floor": 2.0}

# finished: the run is over, nothing stale, no element still a grey placeholder (stSkeleton: its code
# is loading) and every chart drawn (the page's own content is there). Without the placeholder check
# it fired 4-6 s early on the tickets page, with 41 placeholders still grey.
FINISHED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector("[data-testid='stMainBlockContainer'] [data-testid='stElementContainer']")) return false;
  if (document.querySelectorAll("[data-stale='true']").length) return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
  for (const c of charts) { if (!c.querySelector('.main-svg')) return false; }
  return true;
}"""


# counts the app's finished script runs (window.__stRuns): a run ends when stApp's script state changes
# away from "running". A MutationObserver sees every change (old value included), so a run that starts
# and ends between two polls is still counted. Installed in a context before its page opens.
TRACK_RUNS = """(() => {
  window.__stRuns = 0;
  new MutationObserver(records => {
    for (const r of records) if (r.oldValue === 'running') window.__stRuns += 1;
  }).observe(document, {attributes: true, attributeOldValue: true, subtree: true,
                        attributeFilter: ['data-test-script-state']});
})();"""


def _url(path: str, params: dict) -> str:
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v)
    return f"{path}?{qs}" if qs else path


def urls(con, sels: dict, period: dict, pages: list[tuple[str, str, str]], compare_sets: dict) -> list[tuple[str, str, str]]:
    """(page title, selection name, URL path with query) for every page and selection, then 社区对比
    with the given community sets, normal and in 培训模式."""
    span = {"from": f"{period['start']:%Y-%m}", "to": f"{period['end']:%Y-%m}"}
    out = []
    for _, title, url in pages:
        for sel_name, region in sels.items():
            out.append((title, sel_name, _url(url, {**region, **span})))
    if any(url == "compare" for _, _, url in pages):
        for label, names in compare_sets.items():
            out.append(("社区对比", f"{label}个社区", _url("compare", {"communities": names, **span})))
            out.append(("社区对比（培训模式）", f"{label}个社区", _url("compare", {"communities": names, "present": "1", **span})))
    return out


def compare_sets(con) -> dict[str, str]:
    """3 and 8 communities for 社区对比: the reported three where they exist, then the largest."""
    from governance import compare as cmp

    communities = con.execute("SELECT community_id, street, community, residents FROM communities").df()
    short = dict(zip(communities["community_id"], cmp.display_names(communities)))
    reported = [short[i] for i, c in zip(communities["community_id"], communities["community"])
                if c in ("江欣苑社区", "西山社区", "裕园社区") and short[i] == c]
    largest = [short[i] for i in communities.sort_values(["residents", "community_id"], ascending=[False, True])["community_id"]]
    three = (reported + [n for n in largest if n not in reported])[:3]
    eight = (three + [n for n in largest if n not in three])[:8]
    return {"3": ",".join(three), "8": ",".join(eight)}


class _Load:
    """One page load in a fresh context: seconds until finished, bytes received (all, websocket); with
    `tabs`, then each of the page's other tabs chosen in turn (ui.lazy_tabs), seconds from the click until
    that tab is finished, by label (`tab_seconds`; the bytes are the load's alone)."""

    def __init__(self, browser, url: str, timeout_ms: float, tabs: bool = False):
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        context.add_init_script(TRACK_RUNS)
        self.tab_seconds: dict[str, float] = {}
        try:
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            self.http_bytes = 0
            self.ws_bytes = 0

            def finished(ev):
                self.http_bytes += int(ev.get("encodedDataLength", 0))

            def frame(ev):
                r = ev.get("response", {})
                data = r.get("payloadData", "")
                # binary frames (Streamlit's protobuf) arrive base64-encoded
                self.ws_bytes += len(base64.b64decode(data)) if r.get("opcode") == 2 else len(data.encode())

            cdp.on("Network.loadingFinished", finished)
            cdp.on("Network.webSocketFrameReceived", frame)
            t = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=timeout_ms)
            page.wait_for_function(FINISHED, timeout=timeout_ms, polling=50)
            self.seconds = time.perf_counter() - t
            self.error = page.locator("[data-testid='stException']").count()
            self.load_bytes = (self.http_bytes, self.ws_bytes)
            if tabs:
                for label in [x.strip() for x in page.get_by_role("tab").all_inner_texts()][1:]:
                    self.tab_seconds[label] = self._choose(page, label, timeout_ms)
                    self.error += page.locator("[data-testid='stException']").count()
        finally:
            context.close()

    @staticmethod
    def _choose(page, label: str, timeout_ms: float) -> float:
        """Click the tab `label`; seconds until the run it starts has ended and the page is finished."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        before = page.evaluate("() => window.__stRuns")
        t = time.perf_counter()
        page.get_by_role("tab", name=label, exact=True).click()
        try:
            page.wait_for_function("n => window.__stRuns > n", arg=before, timeout=min(timeout_ms, 20_000), polling=50)
        except PlaywrightTimeout:
            pass   # a run so short that "running" was never drawn: the checks below still hold
        page.wait_for_function(FINISHED, timeout=timeout_ms, polling=50)
        return time.perf_counter() - t

    @property
    def bytes(self) -> int:
        return sum(self.load_bytes)


def run(db_path: Path, items: list[tuple[str, str, str]], warm: int = 2, timeout_ms: float = 300_000,
        log=print) -> dict:
    """Serve the dashboard and the floor page, load every item cold once and warm `warm` times,
    each followed by a floor load; return the rows and the figures for the targets.

    Playwright's sync API refuses to start in a thread that already runs an event loop (a test
    session's own sync Playwright does): then the section runs in a thread of its own."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(db_path, items, warm, timeout_ms, log)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(_run, db_path, items, warm, timeout_ms, log).result()


def _run(db_path: Path, items: list[tuple[str, str, str]], warm: int, timeout_ms: float, log) -> dict:
    from playwright.sync_api import sync_playwright

    from governance.load import start_server, stop_server

    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    app, base = start_server(db_path, tmp / "app.log")
    floor_proc, floor_base = start_server(db_path, tmp / "floor.log", script=FLOOR_SCRIPT)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                # the browser and both servers' first session (page-folder handover, imports) are not timed
                _Load(browser, f"{base}/", timeout_ms)
                _Load(browser, floor_base, timeout_ms)
                for title, sel_name, path in items:
                    loads, floors = [], []
                    for i in range(1 + warm):
                        loads.append(_Load(browser, f"{base}/{path}", timeout_ms, tabs=True))
                        floors.append(_Load(browser, floor_base, timeout_ms))
                    cold, warms = loads[0], loads[1:]
                    floor = statistics.median(f.seconds for f in floors)
                    rows.append(dict(page=title, selection=sel_name, url=path, cold=cold.seconds,
                                     warm=statistics.median(w.seconds for w in warms) if warms else float("nan"),
                                     floor=floor, bytes=statistics.median(w.bytes for w in loads),
                                     ws_bytes=statistics.median(w.load_bytes[1] for w in loads),
                                     tabs={label: (cold.tab_seconds[label],
                                                   statistics.median(w.tab_seconds.get(label, float("nan")) for w in warms)
                                                   if warms else float("nan"))
                                           for label in cold.tab_seconds},
                                     floor_bytes=statistics.median(f.bytes for f in floors),
                                     errors=sum(w.error for w in loads), load=os.getloadavg()[0]))
            finally:
                browser.close()
    finally:
        stop_server(app)
        stop_server(floor_proc)
    return {"rows": rows}


def print_rows(result: dict) -> None:
    print("页面 | 选择 | 冷 s | 热 s | 基准页 s | 热 − 基准页 s | 冷 − 基准页 s | 收到字节（其中 websocket） | 异常 | 负载")
    for r in result["rows"]:
        flag = "" if (r["warm"] - r["floor"] <= TARGETS["warm_over_floor"]
                      and r["cold"] - r["floor"] <= TARGETS["cold_over_floor"]) else "  ← 超出目标"
        print(f"{r['page']} | {r['selection']} | {r['cold']:.2f} | {r['warm']:.2f} | {r['floor']:.2f} | "
              f"{r['warm'] - r['floor']:+.2f} | {r['cold'] - r['floor']:+.2f} | "
              f"{r['bytes'] / 1024:,.0f} KB（{r['ws_bytes'] / 1024:,.0f} KB） | {r['errors']} | {r['load']:.1f}{flag}")
    tabbed = [r for r in result["rows"] if r.get("tabs")]
    if tabbed:
        print("切换标签（同一次加载中依次点击其余各标签，从点击到该标签画完；冷 = 冷加载之后，热 = 热加载之后取中位数）")
        print("页面 | 选择 | 标签 | 冷 s | 热 s")
        for r in tabbed:
            for label, (cold, warm) in r["tabs"].items():
                print(f"{r['page']} | {r['selection']} | {label} | {cold:.2f} | {warm:.2f}")
    if result["rows"]:
        fb = statistics.median(r["floor_bytes"] for r in result["rows"])
        print(f"基准页（一张小 Plotly 图）每次收到 {fb / 1024:,.0f} KB。社区对比的链接：" + "；".join(
            f"{r['page']}·{r['selection']} = {unquote(r['url'])}" for r in result["rows"] if r["selection"] in ("3个社区", "8个社区")))
