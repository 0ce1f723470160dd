"""Command line: `python -m colorizers models`, `... colorize ...`, `... colorize-video ...`, `... evaluate ...` (see --help)."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from .decode import encode_png, read_image_file
from .errors import ColorizerError
from .reference_transfer import AUTO, MAX_REFERENCES, Reference
from .registry import BY_HAND, MODELS, available_models, colorize
from .touchup import NoStrokesError, decode_hints
from .video import command as video_command

log = logging.getLogger("colorizers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorizers", description="Colour grayscale photos.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="list the models that can run here")
    colorize_parser = commands.add_parser("colorize", help="colour photos, writing DIR/<stem>_<model>.png")
    colorize_parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    colorize_parser.add_argument("--model", default="welsh", choices=sorted([*MODELS, *BY_HAND]))
    colorize_parser.add_argument(
        "--reference", action="append", metavar="REFERENCE",
        help=f"for welsh and exemplar: a colour photo's path, a gallery or library name, or auto (the default: "
             f"chosen by content); repeat it for several references, at most {MAX_REFERENCES} (auto only alone)",
    )
    colorize_parser.add_argument("--strength", type=float, default=1.0, help="chroma scale, 0 to 1.5")
    colorize_parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    colorize_parser.add_argument(
        "--hints", type=Path, metavar="HINTS.png",
        help="brush strokes to touch the result up with: a transparent PNG (the photo's size or scaled to it) whose "
             "opaque pixels are the strokes' colours; --model scribble colours from these strokes alone",
    )
    _add_evaluate_parser(commands)
    _add_evaluate_references_parser(commands)
    _add_evaluate_faces_parser(commands)
    _add_evaluate_restore_parser(commands)
    video_command.add_parsers(commands)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return _COMMANDS[arguments.command](arguments)
    except ColorizerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _list_models(arguments: argparse.Namespace) -> int:
    available = {info.name for info in available_models()}
    for info in MODELS.values():
        state = "available" if info.name in available else f"missing weights ({info.weights_file})"
        print(f"{info.name:6s} {info.title:16s} {state}")
    for info in BY_HAND.values():
        print(f"{info.name:6s} {info.title:16s} by hand: colours from the strokes given with --hints")
    return 0


def _colorize(arguments: argparse.Namespace) -> int:
    reference = _reference_argument(arguments.reference)
    hints_data = _hints_file(arguments.hints)
    if hints_data is None and arguments.model in BY_HAND:
        raise NoStrokesError(BY_HAND[arguments.model].title)  # for every photo alike: exit 2, as for bad arguments
    arguments.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in arguments.inputs:
        try:
            image = read_image_file(path)
            options = {"hints": decode_hints(hints_data, image.size)} if hints_data is not None else {}
            result = colorize(image, arguments.model, strength=arguments.strength, reference=reference, **options)
        except (ColorizerError, OSError) as error:
            print(f"error: {path}: {_reason(error)}", file=sys.stderr)
            failures += 1
            continue
        destination = arguments.out / f"{path.stem}_{arguments.model}.png"
        destination.write_bytes(encode_png(result.rgb))  # the fast banded writer (zlib level 1)
        log.info("%s -> %s in %.2f s%s", path, destination, result.seconds, _used(result.details))
        if result.details.get("fallback"):
            log.info("%s: %s", path, result.details["fallback"])
    return 1 if failures else 0


def _add_evaluate_parser(commands) -> None:
    # Defaults are spelled out here so that `evaluate` (and its imports) load only when the command runs.
    evaluate_parser = commands.add_parser(
        "evaluate", help="score models on the held-out photos, writing DIR/<split>/metrics.json, table.md, contact_sheet.png"
    )
    evaluate_parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=list(MODELS), metavar="MODEL",
        help=f"models to score besides the gray and welsh-auto baselines ({', '.join(MODELS)}; default all)",
    )
    evaluate_parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    evaluate_parser.add_argument("--max-side", type=int, default=512, help="downscale photos to this long side (512)")
    evaluate_parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N photos")
    evaluate_parser.add_argument("--sheet-rows", type=int, default=8, help="photos on the contact sheet (8)")
    evaluate_parser.add_argument("--manifest", type=Path, default=None, help="default datasets/manifest.csv")
    evaluate_parser.add_argument("--photos", type=Path, default=None, metavar="DIR", help="default data/photos")
    evaluate_parser.add_argument(
        "--splits", nargs="+", default=["foreign", "val"], choices=["foreign", "val"],
        help="held-out splits to score, each written to DIR/<split>/ (default both)",
    )


def _add_evaluate_references_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate-references",
        help="score the reference-based models with good references (another shot of the scene, the true photo), "
             "writing DIR/metrics.json, table.md and a contact sheet per protocol")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--models", nargs="+", default=["welsh", "exemplar"], choices=["welsh", "exemplar"])
    parser.add_argument("--max-side", type=int, default=512, help="downscale photos to this long side (512)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N photos")
    parser.add_argument("--split", default="foreign", choices=["foreign", "val"])


def _evaluate_references(arguments: argparse.Namespace) -> int:
    from .training import reference_evaluation  # lazily, as `evaluate`

    return report_of(lambda: reference_evaluation.run_reference_evaluation(
        arguments.out, tuple(arguments.models), arguments.split, arguments.max_side, arguments.limit),
        reference_evaluation.format_reference_table)


def report_of(run: Callable[[], object], table: Callable[[object], str]) -> int:
    """Run an evaluation and print its table; a missing input (no data, no photos) is exit status 2."""
    try:
        report = run()
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(report), end="")
    return 0


def _add_evaluate_restore_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate-restore",
        help="score the Restore step (dust, scratches, grain) on scanned-print copies of the foreign split's photos, "
             "writing DIR/metrics.json, table.md and before_after.png")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N photos")
    parser.add_argument("--split", choices=("foreign", "val"), default="foreign",
                        help="val: the split Restore's settings are chosen on (default: foreign, never chosen on)")


def _evaluate_restore(arguments: argparse.Namespace) -> int:
    from .training import restore_evaluation  # lazily, as `evaluate`

    return report_of(lambda: restore_evaluation.run_restore_evaluation(arguments.out, arguments.limit,
                                                                       split=arguments.split),
                     restore_evaluation.format_restore_table)


def _add_evaluate_faces_parser(commands) -> None:
    parser = commands.add_parser(
        "evaluate-faces",
        help="detect faces in the foreign split's photos and score each automatic model's faces before and after "
             "the skin-tone step, writing DIR/metrics.json, table.md and faces.jpg")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--models", nargs="+", default=["cnn", "cgan", "blend"], choices=["cnn", "cgan", "blend"])


def _evaluate_faces(arguments: argparse.Namespace) -> int:
    from .training import face_evaluation  # lazily, as `evaluate`

    return report_of(lambda: face_evaluation.run_face_evaluation(arguments.out, tuple(arguments.models)),
                     face_evaluation.format_face_table)


def _evaluate(arguments: argparse.Namespace) -> int:
    from .training import evaluation  # lazily: `models` and `colorize` stay fast

    try:
        reports = evaluation.run_evaluation(
            arguments.models,
            arguments.out,
            manifest_path=arguments.manifest or evaluation.DEFAULT_MANIFEST,
            photos_dir=arguments.photos or evaluation.DEFAULT_PHOTOS_DIR,
            max_side=arguments.max_side,
            limit=arguments.limit,
            sheet_rows=arguments.sheet_rows,
            splits=tuple(arguments.splits),
        )
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(evaluation.format_table(report) for report in reports.values()), end="")
    log.info("Wrote metrics.json, table.md and contact_sheet.png for each split to %s/<split>/", arguments.out)
    return 0


def _reference_argument(references: list[str] | None) -> Reference | list[Reference]:
    """The --reference values as colorize takes them: "auto", or one or a list of up to MAX_REFERENCES references,
    a path becoming its decoded colour photo (sRGB uint8) and anything else (a gallery or library name) passed on."""
    references = references or [AUTO]
    if len(references) > MAX_REFERENCES:
        raise ColorizerError(f"give at most {MAX_REFERENCES} references with --reference (got {len(references)})")
    if len(references) > 1 and AUTO in references:
        raise ColorizerError("--reference auto chooses the references itself: give it alone, not with others")
    resolved = [_one_reference(reference) for reference in references]
    return resolved[0] if len(resolved) == 1 else resolved


def _one_reference(reference: str) -> Reference:
    if reference != AUTO and Path(reference).exists():
        try:
            return read_image_file(Path(reference)).rgb
        except ColorizerError as error:
            raise ColorizerError(f"reference {reference}: {error}") from None
    return reference


def _used(details: dict) -> str:
    """The log line's note of the references used: the first, and all when several."""
    if "reference" not in details:
        return ""
    several = f"; all: {details['references']}" if details.get("references") else ""
    return f" (reference: {details['reference']}{several})"


def _hints_file(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise ColorizerError(f"hints {path}: {_reason(error)}") from None


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


_COMMANDS = {"models": _list_models, "colorize": _colorize, "evaluate": _evaluate,
             "evaluate-references": _evaluate_references, "evaluate-faces": _evaluate_faces,
             "evaluate-restore": _evaluate_restore, **video_command.COMMANDS}
