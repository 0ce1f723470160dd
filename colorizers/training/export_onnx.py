"""`make export` (`python -m colorizers.training.export_onnx`): the trained Keras networks as the ONNX files the
site and the command line run with ONNX Runtime (serving never imports TensorFlow).

- weights/cnn.weights.h5 -> weights/cnn.onnx: gray (N, 224, 224, 1) and the annealing temperature -> "ab", the
  annealed-mean chroma (N, 56, 56, 2), and "embedding", the content vector (N, 576) "Suggest for me" and the
  blend search with.
- weights/cgan_generator.weights.h5 -> weights/cgan.onnx: gray (N, 224, 224, 1) -> "ab" (N, 112, 112, 2).
- weights/cnn.weights.h5 -> weights/exemplar_features.onnx: gray (1, H, W, 1) of any size (multiples of 16) -> the
  exemplar engine's three ImageNet feature maps at 1/4, 1/8 and 1/16 (`colorizers.exemplar`), named after their
  layers. They come from the CNN's encoder, whose layers up to block_13 kept their ImageNet weights (frozen in
  training), so no backbone download is needed.

Each is a frozen graph of the network's serving function (weights as constants), converted by tf2onnx at opset
17, kept in float32: float16 would halve the 24 MB but the budget does not need it. `tests/test_export.py` checks
every export against its Keras model.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .. import settings

log = logging.getLogger(__name__)

OPSET = 17
CNN_KERAS, CNN_ONNX = "cnn.weights.h5", "cnn.onnx"
CGAN_KERAS, CGAN_ONNX = "cgan_generator.weights.h5", "cgan.onnx"
EXEMPLAR_ONNX = "exemplar_features.onnx"


def export_function(function, destination: Path) -> Path:
    """Freeze a `tf.function` with an input signature (its variables become constants) and write it as ONNX; the
    graph's inputs and outputs keep the signature's and the returned dict's names."""
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = function.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    output_names = list(concrete.structured_outputs)  # the dict's keys, in the order of frozen.outputs
    graph = frozen.graph.as_graph_def()
    with tf.Graph().as_default():
        tf2onnx.convert.from_graph_def(
            graph, input_names=[tensor.name for tensor in frozen.inputs],
            output_names=[tensor.name for tensor in frozen.outputs], opset=OPSET, output_path=str(destination))
    _rename_io(destination, [spec.name for spec in function.input_signature], sorted(output_names))
    return destination


def _rename_io(path: Path, input_names: list[str], output_names: list[str]) -> None:
    """Give the graph's inputs and outputs plain names ("gray", "ab", ...) instead of TensorFlow's ("gray:0",
    "Identity_1:0"). The frozen graph lists the structured outputs sorted by key."""
    import onnx

    model = onnx.load(str(path))
    renames = {old.name: new for old, new in zip(model.graph.input, input_names)}
    renames |= {old.name: new for old, new in zip(model.graph.output, output_names)}
    for node in model.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    for value in [*model.graph.input, *model.graph.output]:
        value.name = renames.get(value.name, value.name)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_cnn(weights: Path, destination: Path) -> Path:
    from .cnn_model import KerasCNN

    return export_function(KerasCNN(weights).serve, destination)


def export_cgan(weights: Path, destination: Path) -> Path:
    from .cgan_model import KerasCGAN

    return export_function(KerasCGAN(weights).serve, destination)


def export_exemplar_features(weights: Path, destination: Path) -> Path:
    import tensorflow as tf

    from ..exemplar import COARSE_LAYER, FINE_LAYER, MID_LAYER
    from .backbone import imagenet_layers
    from .cnn_model import KerasCNN

    layer_names = (FINE_LAYER, MID_LAYER, COARSE_LAYER)
    features = imagenet_layers(KerasCNN(weights).model, layer_names)

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 1), tf.float32, name="gray")])
    def serve(gray):
        maps = features(tf.concat([gray, gray, gray], axis=-1), training=False)
        return dict(zip(layer_names, maps))

    return export_function(serve, destination)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights-dir", type=Path, default=settings.WEIGHTS_DIR)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = arguments.weights_dir
    exports = ((export_cnn, CNN_KERAS, CNN_ONNX), (export_cgan, CGAN_KERAS, CGAN_ONNX),
               (export_exemplar_features, CNN_KERAS, EXEMPLAR_ONNX))
    for export, keras_file, onnx_file in exports:
        if not (folder / keras_file).exists():
            log.info("skipped %s: %s is missing", onnx_file, keras_file)
            continue
        path = export(folder / keras_file, folder / onnx_file)
        log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)


if __name__ == "__main__":
    main()
