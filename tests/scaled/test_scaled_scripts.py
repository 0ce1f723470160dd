"""The scaled set-up's tools: the load measurement runs end to end, and several web processes without Redis are
refused with the reason."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_load_scaled_measures_a_batch_and_leaves_no_key_of_the_site_in_redis():
    run = subprocess.run([sys.executable, "scripts/load_scaled.py", "--photos", "2", "--workers", "1", "--ttl", "1"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    row = run.stdout.strip().splitlines()[-1].split("|")
    workers, seconds, per_minute = int(row[0]), float(row[1]), float(row[2])
    before, after = float(row[3]), float(row[5])
    assert workers == 1 and seconds > 0 and per_minute > 0
    assert float(row[4]) > before  # the batch was held in Redis...
    assert abs(after - before) < 0.5 and row[6].strip() == "0 []"  # ...and all of it expired


def test_several_web_processes_without_redis_are_refused_with_the_reason():
    env = {**os.environ, "COLORIZER_WEB_PROCESSES": "2", "COLORIZER_REDIS_URL": "", "PORT": "0"}
    run = subprocess.run([sys.executable, "-m", "dashboard.server.serve"], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0
    assert "needs COLORIZER_REDIS_URL" in run.stderr
