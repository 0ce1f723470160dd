"""Lighthouse audit of every page against the production server (`make audit`).

1. Starts the production server (`python -m dashboard.server.serve` with the serve environment's Python,
   HOST=127.0.0.1 on a free port) and waits until GET /readyz answers 200 (the models are loaded: pages are served as users get them);
   or, with --url, audits a server that is already running.
2. Runs the pinned Lighthouse (tools/audit, installed by `make npm-tools`) on each page with its default mobile
   preset (simulated throttling) in Debian's headless Chromium, --runs times per page; each JSON report goes to
   runs/audit/<page>.json (the median run by performance score; with --runs above 1 every run is kept too).
3. Prints a markdown table of the four category scores and the main metrics per page, then each page's failing
   audits (score under 0.9) with Lighthouse's own figure for each, so that it is clear what to fix.
4. Stops the server (also on Ctrl-C, SIGTERM or an error).

Exit code 0 whatever the scores are; 1 when Lighthouse itself fails (no report, or a runtime error such as a page
that did not load); 2 when the server could not be started.

    make audit
    .venv-serve/bin/python scripts/audit.py --pages / /compare --runs 3
    .venv-serve/bin/python scripts/audit.py --url http://127.0.0.1:8050        # a running server
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The server module is moving into dashboard/server/: use whichever exists.
SERVE_MODULE = "dashboard.server.serve"
SERVE_PYTHON = REPO_ROOT / ".venv-serve/bin/python"
LIGHTHOUSE = REPO_ROOT / "tools/audit/node_modules/lighthouse/cli/index.js"
CHROME_PATH = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Headless without a sandbox (containers, root) and without Chromium's own background traffic, which would show up
# in the network audits.
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")
DEFAULT_PAGES = ("/", "/compare", "/welsh", "/legacy", "/models")
OUT_DIR = REPO_ROOT / "runs/audit"
READY_TIMEOUT_SECONDS = 180
LIGHTHOUSE_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 15
ELEMENTS_SHOWN = 3  # per failing audit, in the summary
PASSING_SCORE = 0.9  # Lighthouse's own "pass" mark (green)
# Audits with these modes carry no score to act on.
UNSCORED_MODES = {"manual", "notApplicable", "informative", "error"}


class ServerStartError(RuntimeError):
    pass


class LighthouseError(RuntimeError):
    pass


# --- The server -------------------------------------------------------------------------------------------------

def free_port() -> int:
    """A port nothing listens on now (the OS picks it); the server binds it a moment later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log_file) -> subprocess.Popen:
    python = SERVE_PYTHON if SERVE_PYTHON.exists() else Path(sys.executable)
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port))
    # Its own process group: stopping it also stops any worker processes it forked.
    return subprocess.Popen([str(python), "-m", SERVE_MODULE], cwd=REPO_ROOT, env=env, stdout=log_file,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_ready(base_url: str, process: subprocess.Popen, timeout: float) -> None:
    """Return once GET /readyz answers 200; ServerStartError if the server exits or is not ready in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or 503 while the models warm up
        time.sleep(1)
    raise ServerStartError(f"GET /readyz did not answer 200 within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group; SIGKILL when it does not stop in STOP_TIMEOUT_SECONDS."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- Lighthouse -------------------------------------------------------------------------------------------------

def page_name(path: str) -> str:
    """The report's file name for a page path: "/" -> "home", "/compare" -> "compare"."""
    return path.strip("/").replace("/", "-") or "home"


def run_lighthouse(url: str, report_path: Path) -> dict:
    """One Lighthouse run (default mobile preset and throttling) on `url`; returns the parsed JSON report."""
    if not LIGHTHOUSE.exists():
        raise LighthouseError(f"{LIGHTHOUSE.relative_to(REPO_ROOT)} is missing: run `make npm-tools`")
    command = ["node", str(LIGHTHOUSE), url, f"--only-categories={','.join(CATEGORIES)}", "--output=json",
               f"--output-path={report_path}", f"--chrome-flags={CHROME_FLAGS}", "--quiet"]
    env = dict(os.environ, CHROME_PATH=CHROME_PATH)
    try:
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                                   timeout=LIGHTHOUSE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        raise LighthouseError(f"Lighthouse on {url} took over {LIGHTHOUSE_TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0 or not report_path.exists():
        raise LighthouseError(f"Lighthouse on {url} exited with code {completed.returncode}:\n"
                              f"{(completed.stderr or completed.stdout)[-3000:]}")
    report = json.loads(report_path.read_text())
    # A page that did not load still gives a report, with null scores: that is Lighthouse failing, not the page.
    if report.get("runtimeError"):
        raise LighthouseError(f"Lighthouse on {url}: {report['runtimeError'].get('message')}")
    return report


def median_run(reports: list[dict]) -> dict:
    """The run whose performance score is the median (the others' figures would not add up to one page load)."""
    by_score = sorted(reports, key=lambda report: report["categories"]["performance"]["score"] or 0)
    return by_score[(len(by_score) - 1) // 2]


def audit_page(base_url: str, path: str, runs: int, out_dir: Path) -> dict:
    """Lighthouse `runs` times on one page; the median run's report is kept as <page>.json and returned."""
    name = page_name(path)
    reports = []
    for index in range(runs):
        report_path = out_dir / (f"{name}.json" if runs == 1 else f"{name}-run{index + 1}.json")
        print(f"lighthouse {path} (run {index + 1}/{runs})...", file=sys.stderr, flush=True)
        reports.append(run_lighthouse(base_url + path, report_path))
    median = median_run(reports)
    if runs > 1:
        (out_dir / f"{name}.json").write_text(json.dumps(median))
    return median


# --- The summary ------------------------------------------------------------------------------------------------

def score(report: dict, category: str) -> str:
    value = report["categories"][category]["score"]
    return "-" if value is None else str(round(value * 100))


def scores_table(results: dict[str, dict]) -> str:
    """Markdown: one row per page, the four scores (0-100) and the main metrics as Lighthouse shows them."""
    lines = ["| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS |",
             "|---|---|---|---|---|---|---|---|---|"]
    for path, report in results.items():
        cells = [score(report, category) for category in CATEGORIES]
        cells += [report["audits"][metric].get("displayValue", "-") for metric in METRICS]
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failing_audits(report: dict) -> list[tuple[str, dict]]:
    """(category title, audit) for each scored audit under PASSING_SCORE, the heaviest in its category first."""
    failing = []
    for category in CATEGORIES:
        refs = sorted(report["categories"][category]["auditRefs"], key=lambda ref: -ref.get("weight", 0))
        for ref in refs:
            audit = report["audits"][ref["id"]]
            if audit.get("scoreDisplayMode") in UNSCORED_MODES or audit.get("score") is None:
                continue
            if audit["score"] < PASSING_SCORE:
                failing.append((report["categories"][category]["title"], audit))
    return failing


def failing_elements(audit: dict) -> list[str]:
    """The CSS selectors of the elements an audit names (accessibility audits have no displayValue: these say where)."""
    items = (audit.get("details") or {}).get("items") or []
    nodes = [item.get("node") for item in items if isinstance(item, dict)]
    return [node["selector"] for node in nodes if isinstance(node, dict) and node.get("selector")]


def lighthouse_version(results: dict[str, dict]) -> str:
    return next(iter(results.values()))["lighthouseVersion"] if results else "?"


def failures_text(results: dict[str, dict]) -> str:
    lines = []
    for path, report in results.items():
        failing = failing_audits(report)
        lines.append(f"\n### {path}: {len(failing) or 'no'} failing audit{'s' if len(failing) != 1 else ''}")
        for category, audit in failing:
            figure = f" — {audit['displayValue']}" if audit.get("displayValue") else ""
            lines.append(f"- [{category}] {audit['title']} (`{audit['id']}`, score {audit['score']:.2f}){figure}")
            selectors = failing_elements(audit)
            if selectors:
                unique = list(dict.fromkeys(selectors))  # Lighthouse's selectors repeat for sibling elements
                shown = ", ".join(f"`{selector}`" for selector in unique[:ELEMENTS_SHOWN])
                more = f", and {len(unique) - ELEMENTS_SHOWN} more" if len(unique) > ELEMENTS_SHOWN else ""
                lines.append(f"  - {len(selectors)} element(s) at {shown}{more}")
    return "\n".join(lines)


# --- Main -------------------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES), help="page paths (default: every page)")
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page; the median is reported")
    parser.add_argument("--url", help="audit this running server (e.g. http://127.0.0.1:8050) instead of starting one")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the JSON reports go (default runs/audit)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def audit_all(base_url: str, args: argparse.Namespace) -> dict[str, dict]:
    warm_up(base_url, args.pages)
    return {path: audit_page(base_url, path, args.runs, args.out) for path in args.pages}


def warm_up(base_url: str, pages: list[str]) -> None:
    """Ask for every page and what it loads (its scripts and style sheets, gzipped) once, as earlier visitors
    would have: a server that has just started compresses each bundle on its first request, and Lighthouse would
    measure that instead of the page."""
    gzipped = {"Accept-Encoding": "gzip"}
    for path in pages:
        document = _get(f"{base_url}{path}", {}).decode("utf-8", "replace")  # read plain; the page is made per visit
        links = re.findall(r'<link[^>]+href="(/[^"]+\.css[^"]*)"', document)
        listed = re.search(r'<script type="application/json" id="page-scripts">(.*?)</script>', document, re.S)
        sources = json.loads(listed.group(1).replace("<\\/", "</")) if listed else []
        for url in [*links, *sources, "/_dash-layout", "/_dash-dependencies"]:
            _get(f"{base_url}{url}", {**gzipped, "Referer": f"{base_url}{path}"})


def _get(url: str, headers: dict) -> bytes:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
            return response.read()
    except urllib.error.URLError:
        return b""  # a page that fails shows in its audit


def _terminated(signum, frame):
    raise KeyboardInterrupt  # so that `finally` stops the server when this script is terminated too


def main() -> int:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _terminated)
    process = None
    try:
        if args.url:
            base_url = args.url.rstrip("/")
        else:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            log_path = args.out / "server.log"
            print(f"starting {SERVE_MODULE} on {base_url} (log: {log_path})...",
                  file=sys.stderr, flush=True)
            process = start_server(port, log_path.open("w"))
            wait_until_ready(base_url, process, READY_TIMEOUT_SECONDS)
        results = audit_all(base_url, args)
    except ServerStartError as error:
        print(f"the server could not be started: {error}", file=sys.stderr)
        return 2
    except LighthouseError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if process is not None:
            stop_server(process)
    print(f"Lighthouse {lighthouse_version(results)}, mobile preset, {args.runs} run(s) per page "
          f"(median by performance); reports in {args.out}\n")
    print(scores_table(results))
    print(failures_text(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
