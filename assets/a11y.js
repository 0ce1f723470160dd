/*
 * Names and keyboard use for what Dash's components render without them (axe-core checks these in
 * tests/browser/test_accessibility.py):
 *
 * - a drop zone's file input (dcc.Upload renders it hidden, without a label) is named after the zone's title (its
 *   <strong>, else its words); it is the zone's keyboard stop: Tab reaches it (the zone shows the focus ring, see
 *   `.upload-zone:focus-within` in style.css) and Enter or Space opens the file chooser;
 * - a dcc.Slider's thumb (role=slider) and its number box are named by the page's <label for="<slider id>">;
 * - a link drawn as a disabled button (`a.btn.disabled`) is aria-disabled and out of the Tab order;
 * - Enter in a slider's number box sets the value (Dash's Slider otherwise takes it only when the box loses focus).
 *
 * Dash draws and redraws components at any time (pages, modals, rows), so this runs again after changes to the
 * document (once per frame), touching only elements that still lack a name.
 */
(function () {
    "use strict";

    function zoneTitle(zone) {
        const strong = zone.querySelector("strong");
        const words = (strong || zone).textContent || "";
        return words.replace(/\s+/g, " ").trim() || "Choose a file";
    }

    function nameUploads(root) {
        for (const input of root.querySelectorAll(".upload-zone input[type=file]:not([aria-label])")) {
            const zone = input.closest(".upload-zone");
            input.setAttribute("aria-label", `${zoneTitle(zone)}: choose ${input.multiple ? "files" : "a file"}`);
        }
    }

    // The <label> that names a slider (its `for` is the slider's id), given an id so that it can be referred to.
    function sliderLabel(holder) {
        const id = holder.getAttribute("id");
        const label = id ? document.querySelector(`label[for="${CSS.escape(id)}"]`) : null;
        if (label && !label.id) {
            label.id = `${id}-label`;
        }
        return label;
    }

    function nameSliders(root) {
        const controls = root.querySelectorAll(
            ".dash-slider-thumb[role=slider]:not([aria-labelledby]):not([aria-label]), " +
            ".dash-slider-container input:not([aria-labelledby]):not([aria-label])");
        for (const control of controls) {
            const holder = control.closest(".dash-slider-container");
            const label = holder ? sliderLabel(holder) : null;
            if (label) {
                control.setAttribute("aria-labelledby", label.id);
            }
        }
    }

    // A link drawn as a disabled button (Bootstrap's `disabled` class) says so to screen readers, and leaves the
    // Tab order while it is disabled.
    function markDisabledLinks(root) {
        for (const link of root.querySelectorAll("a.btn.disabled:not([aria-disabled=true])")) {
            link.setAttribute("aria-disabled", "true");
            link.setAttribute("tabindex", "-1");
        }
        for (const link of root.querySelectorAll("a.btn[aria-disabled=true]:not(.disabled)")) {
            link.removeAttribute("aria-disabled");
            link.removeAttribute("tabindex");
        }
    }

    function nameAll() {
        nameUploads(document);
        nameSliders(document);
        markDisabledLinks(document);
    }

    // Enter or Space on a drop zone's file input opens the file chooser (as a click on the zone does).
    document.addEventListener("keydown", function (event) {
        const input = event.target;
        if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.closest(".upload-zone")) {
            return;
        }
        if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            input.click();
        }
    });

    // Enter in a slider's number box: the box is blurred and focused again, which is when Dash's Slider takes a
    // typed value; the focus stays where the user is typing.
    document.addEventListener("keydown", function (event) {
        const input = event.target;
        if (event.key !== "Enter" || !(input instanceof HTMLInputElement) || !input.closest(".dash-slider-container")) {
            return;
        }
        event.preventDefault();
        input.blur();
        input.focus();
    });

    // New elements need names, and a link's `disabled` class comes and goes (the attributes set here are not
    // watched: they do not call this again). Once per frame at most, after the change: Dash's first render is then
    // not made longer by it (on a phone, one long task less to wait for).
    let pending = false;
    function nameAllSoon() {
        if (!pending) {
            pending = true;
            requestAnimationFrame(function () {
                pending = false;
                nameAll();
            });
        }
    }
    new MutationObserver(nameAllSoon).observe(document.documentElement,
                                              {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
    nameAll();
}());
