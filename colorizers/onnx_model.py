"""Running an exported network with ONNX Runtime: the serving runtime (TensorFlow is for training only)."""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime


def inference_session(path: Path) -> onnxruntime.InferenceSession:
    """A CPU session for the ONNX file at `path`, its graph optimised once at load (the runtime is imported
    here: training, which imports this package's constants, may run where it is not installed)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its start-up notes say nothing a user can act on
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def run(session: onnxruntime.InferenceSession, **inputs: np.ndarray) -> dict[str, np.ndarray]:
    """The session's outputs, by name, for inputs given by name."""
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))
