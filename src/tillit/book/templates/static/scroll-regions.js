/* Both renderers: a box that scrolls sideways (a wide table or figure on a phone) can be
   reached and scrolled with the keyboard (WCAG 2.1.1; axe scrollable-region-focusable). Only
   boxes that actually overflow become tab stops, named by their table's caption or figure. */
(function () {
  "use strict";
  var SELECTOR = ".table-scroll, .figure-scroll, .tillit-table, .code-scroll, .cell-output-display > div";
  function name(box) {
    var cap = box.querySelector("caption, figcaption");
    var text = cap ? cap.textContent.replace(/\s+/g, " ").trim() : "";
    if (box.closest("figure, .tillit-figure")) { return "Figur som kan rulles sidelengs" + (text ? ": " + text : ""); }
    return (text ? "Tabell: " + text : "Innhold som kan rulles sidelengs");
  }
  function mark() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-region", "");
        if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
        if (!box.hasAttribute("aria-label")) { box.setAttribute("aria-label", name(box)); }
      } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
        ["tabindex", "data-scroll-region", "role", "aria-label"].forEach(function (a) { box.removeAttribute(a); });
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("toggle", mark, true);   // a <details> opened: its table may scroll
})();
