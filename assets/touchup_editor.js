/* The touch-up editor's in-browser behaviour (dashboard/components/touchup_editor.py registers these functions as
 * client-side callbacks, namespace "touchup").
 *
 * Never losing work: Apply, Undo and Clear change the strokes on screen at once and ask for a re-colouring of
 * exactly those strokes ("wanted", numbered). One re-colouring at a time goes to the server ("request"); when it
 * answers ("applied"), the latest wanted one goes next, if any, with the target the answer brought. So presses
 * made while the server works queue up instead of racing each other, and the last result always carries the
 * strokes on screen.
 *
 * Touch: one finger paints only in drawing mode (the canvas has the class "touchup-drawing"); otherwise touches
 * never reach Plotly's drawing and the page scrolls (see touchup_editor.css for touch-action).
 */
(function () {
    "use strict";
    const noUpdate = () => window.dash_clientside.no_update;
    const seqOf = (record) => (record && Number(record.seq)) || 0;

    /* Send `wanted` as the editor's request unless one is on its way (or it was answered already); true when a
     * re-colouring is wanted and not yet answered. Set outside the callbacks' graph (set_props): the answer to a
     * request lets the next one go, a loop that Dash's declared callbacks may not form. */
    function sendIfIdle(prefix, wanted, applied, target, request) {
        const done = seqOf(applied);
        if (seqOf(wanted) <= done) { return false; }
        if (seqOf(request) <= done && target) {
            window.dash_clientside.set_props(prefix + "-request", {
                data: {seq: seqOf(wanted), shapes: wanted.shapes || [], target: target}});
        }
        return true;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.touchup = {
        /* Apply keeps the strokes, Undo drops the last one, Clear all of them; a re-colouring of exactly the
         * strokes left goes to the server now, or once the one it works on is answered. Presses are counted from
         * the buttons' clicks (several may arrive in one call when made in quick succession).
         * [strokes on screen, wanted, busy sign hidden]. */
        press: function (apply, undo, clear, shapes, wanted, applied, target, request) {
            const skip = [noUpdate(), noUpdate(), noUpdate()];
            const trigger = String(window.dash_clientside.callback_context.triggered_id || "");
            const prefix = trigger.replace(/-(apply|undo|clear)$/, "");
            const seen = (wanted && wanted.clicks) || [0, 0, 0];
            const clicks = [Number(apply) || 0, Number(undo) || 0, Number(clear) || 0];
            const [applies, undos, clears] = clicks.map((count, index) => Math.max(0, count - (seen[index] || 0)));
            if (!target || prefix === trigger) { return skip; }
            let next = (shapes || []).slice();
            if (clears) {
                next = [];
            } else if (undos) {
                if (!next.length && !applies) { return skip; }
                next = next.slice(0, Math.max(0, next.length - undos));
            } else if (!applies) {
                return skip;
            }
            const nextWanted = {seq: Math.max(seqOf(wanted), seqOf(applied), seqOf(request)) + 1, shapes: next,
                                clicks: clicks};
            sendIfIdle(prefix, nextWanted, applied, target, request);
            return [next, nextWanted, false];
        },

        /* The server answered a re-colouring: send the latest wanted one if it is newer. [busy sign hidden]. */
        answered: function (applied, wanted, target, request) {
            const trigger = String(window.dash_clientside.callback_context.triggered_id || "");
            return !sendIfIdle(trigger.replace(/-applied$/, ""), wanted, applied, target, request);
        },

        /* The drawing: the result (or the model's own, "before", strokes hidden) with the strokes; strokes the
         * result already carries are hidden unless "Show strokes"; the canvas as wide as the editor allows, the
         * photo's shape kept.
         * [figure, canvas style, canvas class]. */
        render: function (target, shapes, before, showStrokes, colour, brush, draw, figure, maxWidth, maxHeight) {
            if (!target || !target.size || !figure || !figure.layout) {
                return [noUpdate(), noUpdate(), noUpdate()];
            }
            const height = Number(target.size[0]), width = Number(target.size[1]);
            const applied = new Set(target.applied || []);
            // Hidden strokes stay in the figure (invisible), so that a stroke drawn meanwhile adds to them.
            const shown = (shapes || []).map((shape) => Object.assign({}, shape, {
                visible: !before && (Boolean(showStrokes) || !applied.has(shape.path))}));
            const image = Object.assign({}, (figure.layout.images || [])[0] || {}, {
                source: (before ? target.before_image : target.image) || ""});
            const layout = Object.assign({}, figure.layout, {
                images: [image], shapes: shown, autosize: true,
                newshape: {line: {color: colour, width: Number(brush)}, opacity: 1}});
            delete layout.width;
            delete layout.height;
            const style = {width: "100%", maxWidth: "min(" + maxWidth + "px, " + (maxHeight * width / height) + "px)",
                           aspectRatio: width + " / " + height, margin: "0 auto"};
            return [Object.assign({}, figure, {layout: layout}), style,
                    "touchup-canvas" + (draw ? " touchup-drawing" : "")];
        },
    };

    function keepTouchesFromTheDrawing(event) {
        const canvas = event.target && event.target.closest ? event.target.closest(".touchup-canvas") : null;
        if (canvas && !canvas.classList.contains("touchup-drawing")) {
            event.stopPropagation();  // Plotly never sees it: no stroke, and the browser scrolls
        }
    }
    for (const type of ["touchstart", "touchmove", "touchend", "touchcancel"]) {
        window.addEventListener(type, keepTouchesFromTheDrawing, {capture: true, passive: true});
    }
})();
