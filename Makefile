# The project's front door. `make run` and `make test` work on a fresh machine (they install what they need).
PYTHON ?= python3
# Two environments: .venv-serve holds only what the site needs (no TensorFlow: it serves ONNX exports); .venv also
# holds training, export and the tests.
SERVE_VENV := .venv-serve
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8050
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install install-serve install-test browser redis run run-scaled test bench bench-memory load load-scaled data library showcase train-cnn train-cgan train-scratches train-scratch-filler export evaluate evaluate-video evaluate-restore evaluate-faces lint npm-tools audit

$(SERVE_VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/python -m pip install -q --upgrade pip
	$(SERVE_VENV)/bin/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed: requirements.txt requirements-train.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-train.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

install-serve: $(SERVE_VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# The pinned Node tools (Lighthouse, axe-core) in tools/audit/node_modules, reinstalled when the lock file changes.
AUDIT_TOOLS := tools/audit
$(AUDIT_TOOLS)/node_modules/.installed: $(AUDIT_TOOLS)/package-lock.json
	npm ci --prefix $(AUDIT_TOOLS) --no-audit --no-fund
	touch $@

npm-tools: $(AUDIT_TOOLS)/node_modules/.installed

# Headless Chromium and its driver for the browser tests, from Debian's packages, only when missing.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver; fi

# Debian's Redis server for the scaled set-up and its tests, only when missing.
redis:
	@if ! command -v redis-server >/dev/null; then \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q redis-server; fi

run: install-serve
	HOST=$(HOST) PORT=$(PORT) $(SERVE_VENV)/bin/python -m dashboard.server.serve

# The scaled set-up on this machine: Redis behind Sentinel (primary 6380, replica 6381, sentinels 26380-26382; no
# persistence), 2 Celery workers, 2 web processes.
run-scaled: install-serve redis
	HOST=$(HOST) PORT=$(PORT) $(SERVE_VENV)/bin/python -m dashboard.server.run_scaled

test: install-test browser redis npm-tools
	$(PY) -m pytest -q tests

# Lighthouse (mobile preset) on every page against the production server it starts: the four scores per page and
# the failing audits; reports in runs/audit/.
audit: install-serve browser npm-tools
	$(SERVE_VENV)/bin/python scripts/audit.py

bench: install-test install-serve
	$(PY) scripts/bench.py
	$(PY) scripts/bench_serving.py
	$(PY) scripts/bench_video.py

# Peak memory per megapixel of each model, up to the pixel limit (each run in a fresh process; a few minutes).
bench-memory: install
	$(PY) scripts/bench_memory.py

# 8 clients x 25 mixed API requests against the production server it starts: errors, p50/p95 per model, RSS.
load: install-test
	$(PY) scripts/load.py

# The same batch of 1 MP photos through the Compare flow with 1 then 2 Celery workers, and Redis memory after expiry.
load-scaled: install-test redis
	$(PY) scripts/load_scaled.py

data: install
	$(PY) scripts/fetch_data.py --legacy

# Both trainers read the frozen encoder's features from one cache (checkpoints/features/, made by the first).
train-cnn: install
	$(PY) -m colorizers.training.train_cnn --stop-at 900

# Phase 1 (per-pixel) until the foreign split stops improving, then the adversarial phase: see weights/MODEL_CARD.md.
train-cgan: install
	$(PY) -m colorizers.training.train_cgan

# Restore's learned scratch detector (weights/scratch_detector.onnx): a tiny U-Net trained on synthetic scratches and
# dust drawn over train-split photos (about 50 minutes on 2 cores; checkpoints/scratches/, resumable): see
# weights/MODEL_CARD.md.
train-scratches: install
	$(PY) -m colorizers.training.train_scratches

# Restore's learned filler (weights/scratch_filler.onnx): the same U-Net, taught to give what lies under the marks
# the detector finds, from Restore's own steps on synthetic scans of train-split photos (about 30 minutes on 2
# cores; checkpoints/scratch-filler/, resumable; run it again after train-scratches): see weights/MODEL_CARD.md.
train-scratch-filler: install
	$(PY) -m colorizers.training.train_scratch_filler

# The reference library for "Suggest for me" and the blend (assets/library/), from the training photos and the CNN.
library: install
	$(PY) scripts/build_reference_library.py

# The home page's example, chosen by measurement on the foreign split (assets/showcase/).
showcase: install
	$(PY) scripts/choose_showcase.py

# The trained Keras networks as the ONNX files the site serves (weights/cnn.onnx, weights/cgan.onnx).
export: install
	$(PY) -m colorizers.training.export_onnx

# Both held-out splits: runs/evaluation/foreign/ (packages never trained on) and runs/evaluation/val/; then the
# reference protocols (another shot of the scene, the true photo) on the foreign split: runs/evaluation/reference/.
evaluate: install
	$(PY) -m colorizers evaluate --models welsh exemplar cnn cgan blend --out runs/evaluation
	$(PY) -m colorizers evaluate-references --out runs/evaluation/reference

# The Restore step (dust, thin scratches, grain) on scanned-print copies of foreign photos (gray and sepia):
# runs/evaluation/restore/ (metrics.json, table.md, before_after.png; the shipped copy is weights/evaluation/restore/).
evaluate-restore: install
	$(PY) -m colorizers evaluate-restore --out runs/evaluation/restore

# Faces on the foreign split: each automatic model's faces before and after the skin-tone step, and the skin-tone
# range measured on the training photos: runs/evaluation/faces/ (metrics.json, table.md, faces.jpg; shipped copy in weights/).
evaluate-faces: install
	$(PY) -m colorizers evaluate-faces --out runs/evaluation/faces

# Every way of colouring a clip (gray, a model per frame, made steady, a keyframe carried) on the city clip and on
# clips panned over foreign photos: runs/evaluation/video/ (metrics.json, table.md, a contact strip per clip).
evaluate-video: install
	$(PY) -m colorizers evaluate-video --out runs/evaluation/video
