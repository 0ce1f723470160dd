/*
 * Results come into view: `dash_clientside.page.scrollIntoView` is the clientside callback that brings a new result
 * to the window's top once Dash has drawn it. Its input is {selector} (or null: nothing to do).
 */
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
