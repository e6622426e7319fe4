#!/usr/bin/python3
"""dashboard_paint.py — first paint of oj's dashboard for `make bench` (bench_dashboard.c).

Loads the dashboard (the URL `oj dashboard` printed) in a headless Chromium with the
cache off, --runs times after one warm-up, and prints the medians, in ms from the start
of the navigation:
  dcl_ms   the page's own files loaded and run (DOMContentLoaded ended): the floor
  rows_ms  the frame after #pipelines first holds --rows rows (PipelineList answered)
  full_ms  the frame after every row has its details (a PipelineStatus each)
The times are taken inside the page (a MutationObserver installed before the page's
scripts, then requestAnimationFrame), so polling from here adds nothing to them.
"""
import argparse
import statistics
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

OBSERVER = """
(() => {
  const want = %d;
  window.ojPaint = {};
  const frame = (key) => requestAnimationFrame(() => { window.ojPaint[key] = performance.now(); });
  let rows = false, full = false;
  const check = () => {
    const r = document.querySelectorAll('#pipelines [data-pipeline-id]');
    if (r.length < want) return;
    if (!rows) { rows = true; frame('rows'); }
    if (!full && [...r].every((tr) => (tr.querySelector('.step') || {}).textContent)) {
      full = true; frame('full');
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
})();
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--runs", type=int, default=7)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="oj-chromium.") as profile:
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--window-size=1400,900", "--user-data-dir=" + profile):
            o.add_argument(arg)
        d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        try:
            d.execute_cdp_cmd("Network.enable", {})
            d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                              {"source": OBSERVER % a.rows})
            d.get(a.url)  # the token URL: sets the cookie, lands on /
            dcl, rows, full = [], [], []
            for i in range(a.runs + 1):
                if i:
                    d.get(d.current_url.split("?")[0])
                t = WebDriverWait(d, 60, poll_frequency=0.05).until(
                    lambda _: d.execute_script(
                        "const p = window.ojPaint; return p && p.full ? "
                        "[performance.getEntriesByType('navigation')[0]"
                        ".domContentLoadedEventEnd, p.rows, p.full] : null"))
                if i:
                    dcl.append(t[0])
                    rows.append(t[1])
                    full.append(t[2])
        finally:
            d.quit()
    print("dcl_ms %.1f" % statistics.median(dcl))
    print("rows_ms %.1f" % statistics.median(rows))
    print("full_ms %.1f" % statistics.median(full))
    return 0


if __name__ == "__main__":
    sys.exit(main())
