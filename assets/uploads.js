/*
 * Files dropped on (or chosen in) a drop zone go to POST /uploads, never through a callback's JSON.
 *
 * dcc.Upload would read each file in the browser and send it as base64 inside the callback request. Instead, this
 * script stops the zone's `change` (file chosen) and `drop` events in the capture phase on window, before
 * dcc.Upload sees them, checks the files' sizes, posts them (multipart `file` parts) to /uploads, and sets the
 * dcc.Upload's `contents` to the tokens the server answers ("upload:<token>") and `filename` to their names, so
 * each page's callback runs as before (dashboard/routes/uploads.py resolves the tokens). "Uploading…" and any error are
 * shown in the zone's status line (the `.upload-status` element after it).
 *
 * A zone inside an element with `data-upload-kind` (the Video page's: "video") posts to /uploads?kind=<kind>, and
 * that element's `data-max-file-bytes` and `data-max-request-bytes` replace the site's limits for photos (the meta
 * tags); while a large file goes up, the status line counts the percent sent.
 *
 * A file that is not what the zone takes (a PDF dropped, or chosen with the dialog's "All files") is told by name in
 * the status line, whole, at once; the others still go up. What a zone takes is its file input's `accept`.
 *
 * What was uploaded then comes into view: `dash_clientside.page.scrollIntoView` is the clientside callback
 * (dashboard/components/scrolling.py) that brings a new result to the window's top once Dash has drawn it; its input
 * is {selector} (or null: nothing to do). It lives here rather than in a file of its own: one script less to fetch.
 */
(function () {
    "use strict";

    const ZONE = ".upload-zone";

    function metaNumber(name) {
        const meta = document.querySelector(`meta[name="${name}"]`);
        const value = meta ? Number(meta.getAttribute("content")) : NaN;
        return Number.isFinite(value) && value > 0 ? value : Infinity;
    }

    function uploadUrl(kind) {
        let prefix = "/";
        const config = document.getElementById("_dash-config");
        if (config) {
            try {
                prefix = JSON.parse(config.textContent).requests_pathname_prefix || "/";
            } catch (error) { /* the default prefix */ }
        }
        const query = kind ? "?kind=" + encodeURIComponent(kind) : "";
        return prefix.replace(/\/?$/, "/") + "uploads" + query;
    }

    // The zone's own limits (data-max-file-bytes, data-max-request-bytes on an element around it), else the site's.
    function zoneLimit(zone, attribute, metaName) {
        const holder = zone.closest("[data-upload-kind]");
        const value = holder ? Number(holder.getAttribute(attribute)) : NaN;
        return Number.isFinite(value) && value > 0 ? value : metaNumber(metaName);
    }

    function zoneKind(zone) {
        const holder = zone.closest("[data-upload-kind]");
        return holder ? holder.getAttribute("data-upload-kind") : "";
    }

    // POST the form, saying in the status line how much is sent so far (fetch cannot tell). Resolves to
    // {ok, status, text}; rejects when the connection is lost.
    function post(url, form, host, zone) {
        return new Promise(function (resolve, reject) {
            const request = new XMLHttpRequest();
            request.open("POST", url);
            request.upload.addEventListener("progress", function (event) {
                if (event.lengthComputable && event.total > 4e6) {
                    say(host, zone, `Uploading… ${Math.floor(100 * event.loaded / event.total)}%`, false);
                }
            });
            request.addEventListener("load", function () {
                resolve({ok: request.status >= 200 && request.status < 300, status: request.status,
                         text: request.responseText});
            });
            request.addEventListener("error", reject);
            request.addEventListener("abort", reject);
            request.send(form);
        });
    }

    // Whether `file` is one of the kinds `accept` lists (".png", "image/*", "video/mp4"...); no list takes all.
    function accepted(file, accept) {
        const kinds = (accept || "").split(",").map((kind) => kind.trim().toLowerCase()).filter(Boolean);
        if (kinds.length === 0) {
            return true;
        }
        const name = (file.name || "").toLowerCase();
        const type = (file.type || "").toLowerCase();
        return kinds.some(function (kind) {
            if (kind.charAt(0) === ".") {
                return name.endsWith(kind);
            }
            if (kind.endsWith("/*")) {
                return type.startsWith(kind.slice(0, -1));
            }
            return type === kind;
        });
    }

    function notTaken(file) {
        const name = (file.name || "").toLowerCase();
        const what = name.endsWith(".pdf") || file.type === "application/pdf" ? "a PDF document" : "not a photo";
        return `${file.name} is ${what}: it was not added. Please choose a photo (PNG, JPEG, WebP, TIFF, GIF or BMP).`;
    }

    function megabytes(bytes) {
        return Math.round(bytes / 1e6);
    }

    // The element that carries the dcc.Upload's id (a pattern-matching id is written as JSON).
    function uploadHost(zone) {
        return zone.id ? zone : zone.parentElement && zone.parentElement.closest("[id]");
    }

    function componentId(host) {
        const raw = host.getAttribute("id");
        if (raw && raw.charAt(0) === "{") {
            try {
                return JSON.parse(raw);
            } catch (error) { /* a plain id after all */ }
        }
        return raw;
    }

    function statusLine(host) {
        const next = host.nextElementSibling;
        return next && next.classList.contains("upload-status") ? next : null;
    }

    function say(host, zone, text, isError) {
        const line = statusLine(host);
        if (line) {
            line.textContent = text;
            line.classList.toggle("text-danger", isError);
            line.classList.toggle("text-body-secondary", !isError);
        }
        zone.classList.toggle("upload-zone-busy", !isError && text !== "");
        zone.setAttribute("aria-busy", !isError && text !== "" ? "true" : "false");
    }

    // dcc.Upload never saw the drop: end its "drag active" look (it counts the elements the drag entered).
    function endDrag(zone) {
        for (const element of [zone, ...zone.querySelectorAll("*")]) {
            element.dispatchEvent(new Event("dragleave", {bubbles: true}));
        }
    }

    function errorText(response) {
        let text = "";
        const body = response.text || "";
        try {
            text = JSON.parse(body).error || "";
        } catch (error) {
            text = body.trim();
        }
        if (response.status === 413) {
            return "These files are too large for one upload; please add them a few at a time.";
        }
        return text || `The upload failed (the server answered ${response.status}); please try again.`;
    }

    async function send(zone, input, fileList) {
        const host = uploadHost(zone);
        if (!host) {
            return;
        }
        const maxFile = zoneLimit(zone, "data-max-file-bytes", "colorizer-max-file-bytes");
        const maxRequest = zoneLimit(zone, "data-max-request-bytes", "colorizer-max-request-bytes");
        const multiple = input ? input.multiple : true;
        let files = Array.from(fileList || []);
        if (!multiple) {
            files = files.slice(0, 1);
        }
        if (files.length === 0) {
            return;
        }
        const accept = input ? input.getAttribute("accept") : "";
        const problems = files.filter((file) => !accepted(file, accept)).map(notTaken);
        files = files.filter((file) => accepted(file, accept));
        problems.push(...files.filter((file) => file.size > maxFile).map(
            (file) => `${file.name} is larger than the limit of ${megabytes(maxFile)} MB.`));
        files = files.filter((file) => file.size <= maxFile);
        const total = files.reduce((sum, file) => sum + file.size + 1024, 64 * 1024);
        if (total > maxRequest) {
            say(host, zone, `These files add up to about ${megabytes(total)} MB, more than the ` +
                `${megabytes(maxRequest)} MB this site takes in one go. Please add them a few at a time.`, true);
            return;
        }
        if (files.length === 0) {
            say(host, zone, problems.join(" "), true);
            return;
        }
        const form = new FormData();
        for (const file of files) {
            form.append("file", file, file.name);
        }
        say(host, zone, "Uploading…", false);
        let answer;
        try {
            const response = await post(uploadUrl(zoneKind(zone)), form, host, zone);
            if (!response.ok) {
                say(host, zone, errorText(response), true);
                return;
            }
            answer = JSON.parse(response.text);
        } catch (error) {
            say(host, zone, "The upload failed (the connection was lost); please try again.", true);
            return;
        }
        const kept = (answer.files || []).filter((file) => file.token);
        for (const file of answer.files || []) {
            if (file.error) {
                problems.push(`${file.filename}: ${file.error}`);
            }
        }
        say(host, zone, problems.join(" "), problems.length > 0);
        if (kept.length === 0) {
            return;
        }
        const contents = kept.map((file) => "upload:" + file.token);
        const names = kept.map((file) => file.filename);
        window.dash_clientside.set_props(componentId(host), multiple
            ? {contents: contents, filename: names}
            : {contents: contents[0], filename: names[0]});
    }

    window.addEventListener("change", function (event) {
        const input = event.target;
        if (!(input instanceof HTMLInputElement) || input.type !== "file") {
            return;
        }
        const zone = input.closest(ZONE);
        if (!zone) {
            return;
        }
        event.stopImmediatePropagation();
        event.preventDefault();
        const files = Array.from(input.files || []);
        input.value = "";  // the same files can be chosen again
        send(zone, input, files);
    }, true);

    window.addEventListener("drop", function (event) {
        const zone = event.target instanceof Element ? event.target.closest(ZONE) : null;
        if (!zone) {
            return;
        }
        event.stopImmediatePropagation();
        event.preventDefault();
        const files = event.dataTransfer ? Array.from(event.dataTransfer.files || []) : [];
        endDrag(zone);
        send(zone, zone.querySelector("input[type=file]"), files);
    }, true);
}());

(function () {
    "use strict";
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.page = {
        scrollIntoView: function (target) {
            if (target && target.selector) {
                // After the frame in which Dash draws the callback's other outputs (the result itself).
                window.requestAnimationFrame(function () {
                    const element = document.querySelector(target.selector);
                    if (element) {
                        element.scrollIntoView({block: "start", behavior: "instant"});
                    }
                });
            }
            return window.dash_clientside.no_update;
        },
    };
}());
