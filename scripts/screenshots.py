"""Regenerate the README's screenshots: start the dashboard on demo data and photograph each page.

Usage: python scripts/screenshots.py [--url http://localhost:8501] [--out docs/screenshots]
Without --url it starts its own `streamlit run` on a free port against a fresh demo database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import launch_browser, open_page, running_server, sign_in, signin_server  # noqa: E402

SHOTS = [
    ("overview", "overview"),
    ("coverage?community=江欣苑社区", "coverage"),
    ("organizations?community=西山社区", "organizations"),
    ("tickets?community=裕园社区", "tickets"),
    ("compare?communities=江欣苑社区,西山社区,裕园社区", "compare"),
    ("bulletin?street=江堤街道&month=2023-08", "bulletin"),
    ("data", "data"),
    ("glossary", "glossary"),
    ("users", "users"),
]
SIX = "compare?communities=江欣苑社区,西山社区,裕园社区,康城社区,文昌花园社区,黄门街社区&present=1"
# (path, file name, viewport, phone): the first screen as a phone (touch) or a projector shows it
SCREENS = [
    ("overview", "phone-overview", (390, 844), True),
    ("compare?communities=江欣苑社区,西山社区,裕园社区", "phone-compare", (390, 844), True),
    ("tickets?community=裕园社区", "phone-tickets", (390, 844), True),
    (SIX + "&slide=1", "projector-slide-1", (1920, 1080), False),
    (SIX + "&slide=3", "projector-slide-3", (1920, 1080), False),
    (SIX + "&slide=5", "projector-slide-5", (1920, 1080), False),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(base: str) -> None:
        with launch_browser() as browser:
            for path, name in SHOTS:
                if args.only and name not in args.only:
                    continue
                page = open_page(browser, f"{base}/{path}", viewport=(1440, 1000))
                if page.get_by_text("Page not found").count():
                    page.context.close()
                    continue
                # Streamlit scrolls inside its main block: grow the viewport to the content's height
                height = page.evaluate(
                    "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], section.main')]"
                    ".map(e => e.scrollHeight), 1000)")
                page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 9000)})
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(f"{name}: {out / f'{name}.png'}")
                page.context.close()
            for path, name, size, phone in SCREENS:
                if args.only and name not in args.only:
                    continue
                extra = dict(is_mobile=True, has_touch=True) if phone else {}
                page = open_page(browser, f"{base}/{path}", viewport=size, **extra)
                page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
                                       ".every(c => c.querySelector('.main-svg'))", timeout=60_000)
                page.screenshot(path=str(out / f"{name}.png"))
                print(f"{name}: {out / f'{name}.png'}")
                page.context.close()

    def shoot_signin() -> None:
        """登录模式: the sign-in screen, and a viewer of one street signed in."""
        import tempfile

        from governance import access, db
        from governance.demo import build_demo_database

        folder = Path(tempfile.mkdtemp(prefix="gov-shots-"))
        path = folder / "demo.duckdb"
        build_demo_database(path)
        con = db.connect(path)
        access.add_user(con, access.cli_actor(con), "wang@example.gov.cn", "viewer", "江堤街道", name="王查看")
        con.close()
        with signin_server(path, folder) as (base, provider), launch_browser() as browser:
            if not args.only or "signin" in args.only:
                page = open_page(browser, f"{base}/overview", viewport=(1440, 600))
                page.screenshot(path=str(out / "signin.png"))
                print(f"signin: {out / 'signin.png'}")
                page.context.close()
            if not args.only or "signed-in" in args.only:
                page = sign_in(browser, base, provider, "wang@example.gov.cn", viewport=(1440, 1000))
                page.screenshot(path=str(out / "signed-in.png"))
                print(f"signed-in: {out / 'signed-in.png'}")
                page.context.close()

    if args.url:
        shoot(args.url.rstrip("/"))
    else:
        with running_server() as base:
            shoot(base)
        shoot_signin()
    return 0


if __name__ == "__main__":
    sys.exit(main())
