#!/usr/bin/python3
"""dashboard.py — drives oj's dashboard in a real headless Chromium (Debian's chromium,
chromedriver and python3-selenium) for tests/e2e/test_dashboard_browser.c.

Given the URL `oj dashboard` printed, it checks what a user would see:
  1. the page loads with the token and connects (the token becomes a cookie);
  2. a pipeline started by `oj run` afterwards appears, in its first phase, and moves
     to its agent phase without a reload (the first phase waits for the file --go);
  3. the agent's terminal shows its output, and a line sent to the session comes back
     in #terminal within --within-ms;
  4. a nudge from the page (its confirm accepted) reaches the agent (seen in #terminal;
     the C test checks the session log too);
  5. a screenshot is saved as <--out>/dashboard.png;
  6. without the token (no cookie, or a wrong one) the page, the API and the protocol
     files answer 401, and the browser gets no dashboard.
Prints "key value" lines (pipeline, session, output_ms) on stdout; on failure, exits 1
with the reason on stderr, after the page's text and console log.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait


class Failure(Exception):
    pass


def browser(profile, chromium, chromedriver):
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--window-size=1400,900", "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.set_capability("unhandledPromptBehavior", "ignore")  # the test answers confirms
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


def js(d, script, *args):
    return d.execute_script(script, *args)


def text_of(d, selector):
    """textContent of the first match (rows are rebuilt on every refresh: read by script,
    never through a stale element), None when nothing matches."""
    return js(d, "const e = document.querySelector(arguments[0]);"
                 "return e ? e.textContent : null;", selector)


def wait(d, what, cond, timeout):
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.02).until(lambda _: cond())
    except TimeoutException:
        raise Failure("%s: not within %gs" % (what, timeout))


def click(d, selector):
    """Clicks the first match from a script (the row may be rebuilt under a WebElement),
    after the script returned: a click that opens a confirm must not block the script."""
    if not js(d, "const e = document.querySelector(arguments[0]);"
                 "if (!e) return false; setTimeout(() => e.click(), 0); return true;", selector):
        raise Failure("nothing to click at " + selector)


def status_of(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def oj(args, oj_bin, project):
    r = subprocess.run([oj_bin, "-C", project] + args, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise Failure("oj %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def run(a, d):
    parts = urllib.parse.urlsplit(a.url)
    base = "%s://%s" % (parts.scheme, parts.netloc)

    # 1. The page, through the token URL (303 to / with the cookie).
    d.get(a.url)
    js(d, "window.ojNoReload = true;")  # gone if the page reloads
    wait(d, "the page connects (#conn)",
         lambda: js(d, "return document.getElementById('conn').dataset.state") == "open", 15)
    if urllib.parse.urlsplit(d.current_url).query:
        raise Failure("the token URL should redirect to the bare page, got " + d.current_url)
    if js(d, "return document.querySelectorAll('#pipelines [data-pipeline-id]').length") != 0:
        raise Failure("a fresh project should show no pipelines")

    # 2. A pipeline started now appears and changes phase without a reload.
    pid = oj(["run", a.pipeline], a.oj, a.project).strip()
    print("pipeline", pid, flush=True)
    row = '#pipelines [data-pipeline-id="%s"]' % pid
    wait(d, "pipeline %s appears in phase %s" % (pid, a.first_phase),
         lambda: text_of(d, row + " .phase") == a.first_phase, 10)
    open(a.go, "w").close()
    wait(d, "pipeline %s moves to phase %s" % (pid, a.agent_phase),
         lambda: text_of(d, row + " .phase") == a.agent_phase, 20)
    if not js(d, "return window.ojNoReload === true"):
        raise Failure("the page reloaded")

    # 3. The agent's terminal: its greeting, then a line sent now comes back quickly.
    wait(d, "pipeline %s shows its agent session" % pid,
         lambda: js(d, "return document.querySelector(arguments[0]) !== null",
                    row + " [data-action=view]"), 10)
    click(d, row + " [data-action=view]")
    sid = wait(d, "the terminal shows a session",
               lambda: js(d, "return document.getElementById('terminal').dataset.sessionId"),
               5)
    print("session", sid, flush=True)
    if text_of(d, '#sessions [data-session-id="%s"]' % sid) is None:
        raise Failure("session %s is not in #sessions" % sid)
    term = "#terminal .xterm-rows"
    wait(d, "the agent's greeting in #terminal",
         lambda: "fake agent ready" in (text_of(d, term) or ""), 10)
    line = "ping-%d" % os.getpid()
    oj(["session", "send", sid, line], a.oj, a.project)
    t0 = time.monotonic()
    wait(d, "the agent's answer to %r in #terminal" % line,
         lambda: ("got: " + line) in (text_of(d, term) or ""), 10)
    ms = (time.monotonic() - t0) * 1000
    print("output_ms %.0f" % ms, flush=True)
    if ms > a.within_ms:
        raise Failure("the answer took %.0f ms to reach #terminal (limit %d ms)"
                      % (ms, a.within_ms))

    # 4. A nudge from the page, confirmed.
    js(d, "document.getElementById('nudge-message').value = arguments[0];", a.nudge)
    click(d, row + " [data-action=nudge]")
    alert = wait(d, "the nudge's confirm", lambda: _alert(d), 5)
    if pid not in alert.text or a.nudge not in alert.text:
        raise Failure("the confirm should name the pipeline and the message: " + alert.text)
    alert.accept()
    wait(d, "the nudge reaches the agent (#terminal)",
         lambda: ("got: " + a.nudge) in (text_of(d, term) or ""), 10)
    wait(d, "the nudge's event in #events",
         lambda: js(d, "return document.querySelectorAll('#events li').length") > 0, 5)

    # 5. What it looks like.
    d.save_screenshot(os.path.join(a.out, "dashboard.png"))

    # 6. No token, no dashboard.
    for path in ("/", "/app.js", "/api/endpoints", "/proto/oj.proto", "/?token=0123"):
        code = status_of(base + path)
        if code != 401:
            raise Failure("GET %s without the token: HTTP %d, want 401" % (path, code))
    d.delete_all_cookies()
    d.get(base + "/")
    if js(d, "return document.getElementById('pipelines') !== null"):
        raise Failure("the browser without the cookie still gets the dashboard")


def _alert(d):
    try:
        a = d.switch_to.alert
        a.text  # raises while there is none
        return a
    except WebDriverException:
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="the URL oj dashboard printed")
    p.add_argument("--oj", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--pipeline", required=True, help="runbook pipeline to oj run")
    p.add_argument("--first-phase", required=True)
    p.add_argument("--agent-phase", required=True)
    p.add_argument("--go", required=True, help="file that lets the first phase finish")
    p.add_argument("--nudge", required=True, help="the nudge message")
    p.add_argument("--out", required=True, help="directory for dashboard.png")
    p.add_argument("--within-ms", type=int, default=1000)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="oj-chromium.") as profile:
        d = browser(profile, a.chromium, a.chromedriver)
        try:
            run(a, d)
        except Failure as e:
            try:
                d.save_screenshot(os.path.join(a.out, "dashboard-failed.png"))
                sys.stderr.write("---- page %s (%s)\n%s\n---- console\n" % (
                    d.current_url,
                    "reloaded" if not js(d, "return window.ojNoReload === true") else "not reloaded",
                    js(d, "return document.body ? document.body.innerText : ''")))
                for entry in d.get_log("browser"):
                    sys.stderr.write("%s %s\n" % (entry["level"], entry["message"]))
            except WebDriverException as w:
                sys.stderr.write("(cannot read the page: %s)\n" % w.msg)
            sys.stderr.write("dashboard.py: %s\n" % e)
            return 1
        finally:
            d.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
