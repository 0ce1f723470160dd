"""The documents the server writes for each page (`dashboard.components.document`, `.static_html`): the frame and
each page's introduction in the HTML itself, the scripts that are (and are not) loaded, the first `_dash-layout`
holding the page already, and the callbacks' component ids (which Dash no longer checks in the browser, the app
suppressing callback exceptions)."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from urllib.parse import quote

import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html

from dashboard.components.static_html import to_html

INTERACTIVE_PAGES = ["/", "/compare", "/welsh", "/video"]
STATIC_PAGES = ["/legacy", "/models"]
ALL_PAGES = INTERACTIVE_PAGES + STATIC_PAGES
# What a visitor reads as each page's heading (the first thing a phone should paint).
HEADINGS = {
    "/": "Give old photos their colour back",
    "/compare": "Compare models",
    "/welsh": "Reference transfer",
    "/video": "Colour a film clip",
    "/legacy": "Legacy photos",
    "/models": "The models",
}
# A component each interactive page's Dash layout holds (its drop zone).
PAGE_COMPONENT = {"/": "home-upload", "/compare": "compare-upload", "/welsh": "welsh-upload", "/video": "video-upload"}
VOID = {"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "base", "embed", "param"}


@pytest.fixture()
def client(dashboard_app, models):
    return dashboard_app.server.test_client()


# --- A small HTML tree, to check structure rather than substrings ---------------------------------------------------
class Element:
    def __init__(self, tag: str, attrs: dict, parent: "Element | None") -> None:
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def find_all(self, tag: str, **attrs) -> list["Element"]:
        return [node for node in self.iter() if node.tag == tag
                and all(node.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items())]

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.order: list[Element] = []  # elements in document order
        self.raw_script_text: list[tuple[dict, str]] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: ("" if value is None else value) for name, value in attrs}, self.current)
        self.current.children.append(element)
        self.order.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, f"</{tag}> closes nothing"
        assert node is self.current, f"</{tag}> closes <{node.tag}> with <{self.current.tag}> still open"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(document: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(document)
    builder.close()
    assert builder.current is builder.root, f"<{builder.current.tag}> is never closed"
    return builder


def fragment(markup: str) -> Element:
    return parse(markup).root


# --- static_html ----------------------------------------------------------------------------------------------------
def test_text_and_attributes_are_escaped():
    markup = to_html(html.P(["<script>alert(1)</script> & more", html.A("x", href='/a?b=1&c="2"><script>')]))
    assert "<script" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in markup
    [link] = fragment(markup).find_all("a")
    assert link.attrs["href"] == '/a?b=1&c="2"><script>'  # the attribute holds the value, quotes and all
    [paragraph] = fragment(markup).find_all("p")
    assert paragraph.text() == '<script>alert(1)</script> & morex'


def test_props_become_html_attributes():
    markup = to_html(html.Div(
        [html.Label("Name", htmlFor="name-field"), html.Img(src="/a.png", alt="A", srcSet="/a.png 1x"), html.Br(),
         html.Span("hidden", hidden=True), html.Span("shown", hidden=False), html.Hr()],
        className="box wide", id="outer", style={"backgroundColor": "red", "marginTop": "4px"}, n_clicks=3,
        **{"aria-label": "A box", "data-kind": "demo"},
    ))
    root = fragment(markup)
    [outer] = root.find_all("div")
    assert outer.attrs["class"] == "box wide" and "classname" not in outer.attrs
    assert outer.attrs["id"] == "outer"
    declarations = dict(part.split(":", 1) for part in outer.attrs["style"].split(";") if part)
    assert declarations == {"background-color": "red", "margin-top": "4px"}
    assert outer.attrs["aria-label"] == "A box" and outer.attrs["data-kind"] == "demo"
    assert "n_clicks" not in markup and "n-clicks" not in markup
    assert root.find_all("label")[0].attrs["for"] == "name-field"
    [image] = root.find_all("img")
    assert image.attrs == {"src": "/a.png", "alt": "A", "srcset": "/a.png 1x"} and not image.children
    # Void elements have no end tag; the spans keep or drop `hidden`.
    assert "</img>" not in markup and "</br>" not in markup and "</hr>" not in markup and "<br>" in markup
    spans = root.find_all("span")
    assert [("hidden" in span.attrs) for span in spans] == [True, False]


def test_plain_values():
    assert to_html(None) == ""
    assert to_html([1, " and ", 2.5]) == "1 and 2.5"


def test_bootstrap_components_are_written_as_bootstrap_markup():
    markup = to_html(dbc.Card(
        [dbc.CardHeader("Head"),
         dbc.CardBody(dbc.Row([dbc.Col("a", xs=12, md=6, class_name="extra"), dbc.Col("b")], class_name="g-3")),
         dbc.CardFooter("Foot")],
        class_name="shadow-sm", id="the-card",
    ))
    root = fragment(markup)
    card = next(node for node in root.iter() if node.attrs.get("id") == "the-card")
    assert card.tag == "div" and set(card.attrs["class"].split()) == {"card", "shadow-sm"}
    assert [child.attrs["class"] for child in card.children] == ["card-header", "card-body", "card-footer"]
    [row] = [node for node in root.iter() if "row" in node.attrs.get("class", "").split()]
    assert set(row.attrs["class"].split()) == {"row", "g-3"}
    first, second = row.children
    assert set(first.attrs["class"].split()) == {"col-12", "col-md-6", "extra"} and first.text() == "a"
    assert second.attrs["class"] == "col" and second.text() == "b"


def test_bootstrap_table_badge_button_and_alert():
    root = fragment(to_html(html.Div([
        dbc.Table(html.Tbody(html.Tr(html.Td("1"))), striped=True, size="sm", responsive=True),
        dbc.Badge("New", color="light", text_color="dark"),
        dbc.Button("Open", href="/compare?legacy=x", color="secondary", outline=True, size="sm"),
        dbc.Alert("Done", color="info"),
    ])))
    [table] = root.find_all("table")
    assert set(table.attrs["class"].split()) == {"table", "table-striped", "table-sm"}
    assert "table-responsive" in table.parent.attrs.get("class", "").split()
    assert table.find_all("td")[0].text() == "1"
    [badge] = root.find_all("span")
    assert set(badge.attrs["class"].split()) == {"badge", "bg-light", "text-dark"} and badge.text() == "New"
    [link] = root.find_all("a")
    assert link.attrs["href"] == "/compare?legacy=x" and link.text() == "Open"
    assert set(link.attrs["class"].split()) == {"btn", "btn-outline-secondary", "btn-sm"}
    assert not root.find_all("button")
    [alert] = [node for node in root.iter() if node.attrs.get("role") == "alert"]
    assert set(alert.attrs["class"].split()) == {"alert", "alert-info"} and alert.text() == "Done"


def test_markdown_is_rendered_without_raw_html():
    markup = to_html(dcc.Markdown("Some **bold** text <b onclick='x()'>raw</b>\n\n<script>alert(1)</script>",
                                  className="notes"))
    root = fragment(markup)
    [wrapper] = [node for node in root.children if isinstance(node, Element)]
    assert wrapper.attrs["class"] == "notes"
    assert [node.text() for node in root.find_all("strong")] == ["bold"]
    assert not root.find_all("b") and not root.find_all("script") and "<script" not in markup
    assert "&lt;b onclick" in markup


@pytest.mark.parametrize("component", [
    dcc.Input(id="x"), dbc.Input(id="x"), html.Div(["fine", html.Span(dcc.Dropdown(id="choice"))]),
    dbc.Button("Click", id="button"),  # a button without a link is for a callback
    dbc.Modal("x", id="modal"),
])
def test_interactive_components_are_refused(component):
    with pytest.raises(TypeError):
        to_html(component)


# --- Each page's document -----------------------------------------------------------------------------------------
def _document(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response, response.get_data(as_text=True)


def _page_scripts(tree: _TreeBuilder) -> list[str]:
    [block] = [node for node in tree.order if node.tag == "script" and node.attrs.get("id") == "page-scripts"]
    assert block.attrs.get("type") == "application/json"
    return json.loads(block.text())


@pytest.mark.parametrize("path", ALL_PAGES)
def test_every_page_is_framed_on_the_server(client, path):
    response, document = _document(client, path)
    tree = parse(document)
    [root] = tree.root.find_all("html")
    assert root.attrs.get("lang") == "en"
    [main] = tree.root.find_all("main")
    assert main.attrs.get("id") == "main"
    assert len([node for node in tree.order if node.attrs.get("id") == "main"]) == 1
    [header] = tree.root.find_all("header")
    [footer] = tree.root.find_all("footer")
    body_elements = [node for node in tree.root.find_all("body")[0].children if isinstance(node, Element)]
    assert body_elements.index(header) < body_elements.index(main) < body_elements.index(footer)
    # The navigation: one link per page, the current one (only) marked.
    [nav] = header.find_all("nav")
    links = {link.attrs["href"]: link for link in nav.find_all("a") if "nav-link" in link.attrs.get("class", "")}
    assert set(links) == set(ALL_PAGES)
    assert [href for href, link in links.items() if link.attrs.get("aria-current") == "page"] == [path]
    # The skip link leads to <main>.
    assert any(link.attrs.get("href") == "#main" for link in header.find_all("a"))
    # The heading is in the HTML itself, in <main>, before Dash's entry point.
    [heading] = tree.root.find_all("h1")
    assert " ".join(heading.text().split()) == HEADINGS[path]
    assert main in heading.ancestors()
    [entry] = [node for node in tree.order if node.attrs.get("id") == "react-entry-point"]
    assert main in entry.ancestors() and tree.order.index(heading) < tree.order.index(entry)
    # Scripts the site does not use are nowhere.
    sources = [node.attrs["src"] for node in tree.order if node.tag == "script" and "src" in node.attrs]
    if path in INTERACTIVE_PAGES:
        sources += _page_scripts(tree)
    assert not [source for source in sources if "polyfill" in source or "dash_table" in source]
    assert "/deps/polyfill@" not in document and "/dash/dash_table/" not in document
    # Every in-page link leads somewhere on the page.
    ids = {node.attrs["id"] for node in tree.order if "id" in node.attrs}
    fragments = {node.attrs["href"][1:] for node in tree.order if node.tag == "a" and
                 node.attrs.get("href", "").startswith("#") and len(node.attrs["href"]) > 1}
    assert fragments <= ids


@pytest.mark.parametrize("path", STATIC_PAGES)
def test_static_pages_have_no_script_and_show_their_content(client, path):
    _, document = _document(client, path)
    assert "<script" not in document.lower()
    tree = parse(document)
    [main] = tree.root.find_all("main")
    [entry] = [node for node in tree.order if node.attrs.get("id") == "react-entry-point"]
    assert "hidden" in entry.attrs and not entry.text().strip()  # no "Loading..." that never ends
    assert main in entry.ancestors()


def test_legacy_page_shows_every_legacy_photo(client):
    from dashboard.page_logic.legacy import legacy_photos

    photos = legacy_photos()
    assert photos, "assets/legacy has photos"
    tree = parse(_document(client, "/legacy")[1])
    cards = [node for node in tree.order if "legacy-card" in node.attrs.get("class", "").split()]
    assert len(cards) == len(photos)
    links = {node.attrs["href"] for node in tree.order if node.tag == "a"}
    assert {f"/compare?legacy={quote(photo.name)}" for photo in photos} <= links
    titles = {node.text() for node in tree.root.find_all("h2")}
    assert {photo.title for photo in photos} <= titles
    assert all(card.find_all("img") for card in cards)


def test_models_page_shows_every_model(client):
    from colorizers.registry import MODELS

    tree = parse(_document(client, "/models")[1])
    ids = {node.attrs.get("id") for node in tree.order}
    assert {f"model-{name}" for name in MODELS} <= ids
    text = tree.root.find_all("main")[0].text()
    assert all(info.title in text for info in MODELS.values())


@pytest.mark.parametrize("path", INTERACTIVE_PAGES)
def test_interactive_pages_list_their_scripts_and_allow_the_loader(client, path):
    response, document = _document(client, path)
    tree = parse(document)
    # No script file is loaded by the parser: all are in the JSON block, fetched after the page has loaded.
    assert not [node for node in tree.order if node.tag == "script" and "src" in node.attrs]
    sources = _page_scripts(tree)
    assert any("dash_renderer" in source for source in sources)
    assert any("/dash/dcc/dash_core_components." in source for source in sources)
    # The drop zone's code comes with the rest; the slider's only where one is there at once (Compare's strength).
    eager = {part for source in sources for part in ("async-upload", "async-slider") if f"/dcc/{part}." in source}
    assert eager == ({"async-upload", "async-slider"} if path == "/compare" else {"async-upload"})
    for source in sources:
        answer = client.get(source)
        assert answer.status_code == 200, source
        assert answer.mimetype in ("application/javascript", "text/javascript"), source
        answer.close()
    # Every inline script (the loader, Dash's client-side callbacks) is allowed by the policy's hashes.
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    allowed = set(policy["script-src"].split())
    assert "'unsafe-inline'" not in allowed
    inline = [node for node in tree.order if node.tag == "script" and "src" not in node.attrs
              and node.attrs.get("type") != "application/json"]
    loader = [node for node in inline if "page-scripts" in node.text()]
    assert len(loader) == 1
    for node in inline:
        digest = base64.b64encode(hashlib.sha256(node.text().encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, node.text()[:200]


def test_home_page_writes_its_ways_to_other_pages_after_dash_s_part(dashboard_app, client):
    """The page cards and the model list need no callback: they are in the HTML, below the entry point (Dash's
    layout holds only the upload), as plain links (full page loads, like the navigation)."""
    from colorizers import available_models

    _, document = _document(client, "/")
    tree = parse(document)
    [main] = tree.root.find_all("main")
    assert "with-outro" in main.attrs.get("class", "").split()
    [entry] = [node for node in tree.order if node.attrs.get("id") == "react-entry-point"]
    [outro] = [node for node in tree.order if "page-outro" in node.attrs.get("class", "").split()]
    assert main in outro.ancestors() and tree.order.index(entry) < tree.order.index(outro)
    cards = [link.attrs["href"] for link in outro.find_all("a") if "btn" in link.attrs.get("class", "").split()]
    assert cards == ["/compare", "/legacy", "/welsh", "/video", "/models"]
    text = " ".join(outro.text().split())
    assert all(model.title in text for model in available_models())
    content = _by_id(_layout(client, "http://localhost/"), "_pages_content")
    assert not {"Card", "Button", "Ul"} & {component["type"] for component in _components(content)}
    assert "home-upload" in _ids(_components(content))
    # Every other page keeps a screen's height for Dash's part, without an outro.
    for path in ("/compare", "/welsh", "/video"):
        assert "page-outro" not in _document(client, path)[1]


def test_home_page_preloads_its_largest_picture(client):
    _, document = _document(client, "/")
    tree = parse(document)
    [head] = tree.root.find_all("head")
    preloads = [node for node in head.find_all("link") if node.attrs.get("rel") == "preload"]
    [image] = [node for node in preloads if node.attrs.get("as") == "image"]
    assert image.attrs.get("fetchpriority") == "high"
    answer = client.get(image.attrs["href"])
    assert answer.status_code == 200 and answer.mimetype == "image/webp"
    # The preloaded picture is the one the page shows (else it is fetched twice).
    shown = {node.attrs.get("src") for node in tree.order if node.tag in ("img", "source")}
    shown |= {candidate.strip().split(" ")[0] for node in tree.order if node.tag in ("img", "source")
              for candidate in node.attrs.get("srcset", "").split(",") if candidate.strip()}
    assert image.attrs["href"] in shown


# --- The first _dash-layout -----------------------------------------------------------------------------------------
def _components(tree):
    """Every component in a layout as Dash sends it (JSON)."""
    if isinstance(tree, list):
        for item in tree:
            yield from _components(item)
    elif isinstance(tree, dict):
        if "props" in tree and "type" in tree:
            yield tree
        for value in (tree.get("props", tree)).values():
            yield from _components(value)


def _layout(client, referer: str | None) -> list[dict]:
    headers = {"Referer": referer} if referer else {}
    response = client.get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return list(_components(response.get_json()))


def _ids(components) -> set:
    return {node["props"].get("id") for node in components if isinstance(node["props"].get("id"), str)}


def _by_id(components: list[dict], component_id: str) -> dict:
    [found] = [node for node in components if node["props"].get("id") == component_id]
    return found


@pytest.mark.parametrize("path", INTERACTIVE_PAGES)
def test_first_layout_holds_the_page(client, path):
    url = f"http://localhost{path}"
    components = _layout(client, url)
    location = _by_id(components, "_pages_location")["props"]
    assert location["pathname"] == path and location["href"] == url
    assert location.get("search", "") == "" and location.get("hash", "") == ""
    content = _by_id(components, "_pages_content")
    assert PAGE_COMPONENT[path] in _ids(_components(content["props"]["children"]))
    # The other pages' components are not there.
    others = {PAGE_COMPONENT[other] for other in INTERACTIVE_PAGES if other != path}
    assert not others & _ids(components)
    assert _by_id(components, "_pages_store")["props"].get("data", {}).get("title")


def test_first_layout_keeps_the_query(client):
    from dashboard.page_logic.legacy import legacy_photos

    name = legacy_photos()[0].name
    url = f"http://localhost/compare?legacy={quote(name)}"
    components = _layout(client, url)
    location = _by_id(components, "_pages_location")["props"]
    assert location["pathname"] == "/compare" and location["search"] == f"?legacy={quote(name)}"
    assert location["href"] == url
    assert _by_id(components, "compare-legacy-request")["props"]["data"] == name


@pytest.mark.parametrize("referer", [None, "http://localhost/no-such-page", "http://localhost/compare-not"])
def test_first_layout_without_a_page_is_dash_s_empty_container(client, referer):
    components = _layout(client, referer)
    location = _by_id(components, "_pages_location")["props"]
    assert "pathname" not in location and "href" not in location
    assert not _by_id(components, "_pages_content")["props"].get("children")
    assert not {PAGE_COMPONENT[path] for path in INTERACTIVE_PAGES} & _ids(components)


# --- Callbacks name components that exist ---------------------------------------------------------------------------
# Plain ids only a callback creates (in no layout); each with the reason it is fine. None at present.
CREATED_BY_CALLBACKS: dict[str, str] = {}
DEPENDENCIES = {"Input", "Output", "State"}


def _walk(node):
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
        return
    if not hasattr(node, "_prop_names"):
        return
    yield node
    for name in node._prop_names:
        value = getattr(node, name, None)
        if hasattr(value, "_prop_names") or isinstance(value, (list, tuple)):
            yield from _walk(value)


def _every_layout(dashboard_app):
    import dash
    from dashboard.page_logic.legacy import legacy_photos

    with dashboard_app.server.test_request_context("/"):
        yield dashboard_app.serve_layout()
    yield dash.page_container
    for page in dash.page_registry.values():
        if page.get("intro"):
            yield page["intro"]()
        layout = page["layout"]
        if callable(layout):
            yield layout()
            if page["path"] == "/compare":
                yield layout(legacy=legacy_photos()[0].name)
        else:
            yield layout


def _callback_ids(dashboard_app) -> tuple[set, set]:
    """The plain ids the callbacks name, and the `type` of the pattern-matching ones."""
    from dash import _callback
    from dash._utils import split_callback_id

    dashboard_app.server.test_client().get("/")  # Dash moves the registered callbacks into its map on first use
    ids = []
    for spec in dashboard_app.app.callback_map.values():
        outputs = spec["output"] if isinstance(spec["output"], (list, tuple)) else [spec["output"]]
        ids += [output.component_id for output in outputs]
        ids += [item["id"] for item in spec["inputs"] + spec["state"]]
    for spec in _callback.GLOBAL_CALLBACK_LIST:
        outputs = split_callback_id(spec["output"])
        outputs = outputs if isinstance(outputs, list) else [outputs]
        ids += [output["id"] for output in outputs] + [item["id"] for item in spec["inputs"] + spec["state"]]
    string_ids, types = set(), set()
    for component_id in ids:
        if isinstance(component_id, str) and component_id.startswith("{"):
            component_id = json.loads(component_id)
        if isinstance(component_id, dict):
            types.add(component_id["type"])
        else:
            string_ids.add(component_id)
    return string_ids, types


def _pattern_id_types_in_source() -> list[re.Pattern]:
    """The `type` of every dict id the dashboard's code builds for a component (pattern-matching ids live in the
    views callbacks return, not in the layouts): dict literals with a "type" key that are not a callback's
    Input/Output/State, their type a string, a module constant, an f-string (a field matches any text, or one of
    the strings a comprehension takes it from), or a function's parameter (the strings its callers pass)."""
    import ast
    from pathlib import Path

    import dashboard

    types, parameters = [], set()  # parameters: (function name, position, parameter name) holding a type
    trees = [ast.parse(source.read_text(), str(source)) for source in Path(dashboard.__file__).parent.rglob("*.py")]
    for tree in trees:
        constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                     for target in node.targets if isinstance(target, ast.Name)}
        # Names a comprehension takes from a literal tuple of strings (`for part in ("image", "download")`).
        choices = {generator.target.id: [item.value for item in generator.iter.elts]
                   for generator in ast.walk(tree) if isinstance(generator, ast.comprehension)
                   and isinstance(generator.target, ast.Name) and isinstance(generator.iter, (ast.Tuple, ast.List))
                   and all(isinstance(item, ast.Constant) and isinstance(item.value, str)
                           for item in generator.iter.elts)}
        dependencies = {id(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args
                        and getattr(node.func, "id", getattr(node.func, "attr", None)) in DEPENDENCIES}
        functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for function in functions:
            arguments = [argument.arg for argument in function.args.args]
            for node in ast.walk(function):
                if not isinstance(node, ast.Dict) or id(node) in dependencies:
                    continue
                for key, value in zip(node.keys, node.values):
                    if not (isinstance(key, ast.Constant) and key.value == "type"):
                        continue
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        types.append(re.compile(re.escape(value.value)))
                    elif isinstance(value, ast.Name) and value.id in constants:
                        types.append(re.compile(re.escape(constants[value.id])))
                    elif isinstance(value, ast.Name) and value.id in arguments:
                        parameters.add((function.name, arguments.index(value.id), value.id))
                    elif isinstance(value, ast.JoinedStr):
                        types.append(re.compile("".join(_f_string_part(part, choices) for part in value.values)))
    # What callers pass for those parameters: strings, or their own parameters in turn.
    calls = [(function, call) for tree in trees for function in ast.walk(tree)
             if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
             for call in ast.walk(function) if isinstance(call, ast.Call)]
    calls += [(None, call) for tree in trees for node in tree.body if not isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef)) for call in ast.walk(node) if isinstance(call, ast.Call)]
    done: set = set()
    while parameters - done:
        for function_name, position, name in parameters - done:
            done.add((function_name, position, name))
            for function, call in calls:
                if getattr(call.func, "id", getattr(call.func, "attr", None)) != function_name:
                    continue
                passed = [call.args[position]] if position < len(call.args) else []
                passed += [keyword.value for keyword in call.keywords if keyword.arg == name]
                for value in passed:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        types.append(re.compile(re.escape(value.value)))
                    elif isinstance(value, ast.Name) and function is not None:
                        arguments = [argument.arg for argument in function.args.args]
                        if value.id in arguments:
                            parameters = parameters | {(function.name, arguments.index(value.id), value.id)}
    # A type made of fields alone would match anything: the check would check nothing.
    assert not [pattern for pattern in types if not re.sub(r"\\.|\.\+|\(.*?\)", "", pattern.pattern)
                and "(" not in pattern.pattern]
    return types


def _f_string_part(part, choices: dict[str, list[str]]) -> str:
    import ast

    if isinstance(part, ast.Constant):
        return re.escape(part.value)
    if isinstance(part.value, ast.Name) and part.value.id in choices:
        return "(" + "|".join(re.escape(choice) for choice in choices[part.value.id]) + ")"
    return ".+"


def test_callbacks_name_components_that_exist(dashboard_app, models):
    named, named_types = _callback_ids(dashboard_app)
    assert len(named) > 50 and named_types  # the callbacks were found
    string_ids, type_ids = set(), set()
    for layout in _every_layout(dashboard_app):
        for component in _walk(layout):
            component_id = getattr(component, "id", None)
            if isinstance(component_id, dict):
                type_ids.add(component_id.get("type"))
            elif component_id is not None:
                string_ids.add(component_id)
    missing = sorted(named - string_ids - set(CREATED_BY_CALLBACKS))
    assert not missing, f"callbacks name components that no layout has: {missing}"
    made = _pattern_id_types_in_source()
    missing_types = sorted(name for name in named_types - type_ids
                           if not any(pattern.fullmatch(name) for pattern in made))
    assert not missing_types, f"pattern-matching callbacks name types no component is made with: {missing_types}"
