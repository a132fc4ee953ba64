/* Client-side search for the fallback book: window.TILLIT_SEARCH (static/search-index.js)
   holds each page's visible text; this box lists the pages that contain every word typed.
   Also opens the table of contents on wide screens and folds it on phones. */
(function () {
  "use strict";
  var toc = document.querySelector("details.toc");
  if (toc && window.matchMedia("(max-width: 900px)").matches) { toc.removeAttribute("open"); }

  var input = document.getElementById("sok");
  var list = document.getElementById("sok-treff");
  var index = window.TILLIT_SEARCH || [];
  if (!input || !list) { return; }

  function norm(s) { return s.toLocaleLowerCase("nb"); }
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function snippet(text, word) {
    var at = norm(text).indexOf(word);
    var start = Math.max(0, at - 60);
    var piece = text.slice(start, at + word.length + 80);
    var safe = escapeHtml(piece);
    var re = new RegExp("(" + word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + ")", "ig");
    return (start > 0 ? "… " : "") + safe.replace(re, "<mark>$1</mark>") + " …";
  }
  function search() {
    var words = norm(input.value).split(/\s+/).filter(function (w) { return w.length > 1; });
    list.innerHTML = "";
    if (!words.length) { return; }
    var hits = index.filter(function (page) {
      var hay = norm(page.title + " " + page.text);
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    if (!hits.length) {
      var none = document.createElement("li");
      none.textContent = "Ingen treff";
      list.appendChild(none);
      return;
    }
    hits.slice(0, 12).forEach(function (page) {
      var li = document.createElement("li");
      li.innerHTML = '<a href="' + encodeURI(page.url) + '">' + escapeHtml(page.title) + "</a>" +
        '<span class="snippet">' + snippet(page.text, words[0]) + "</span>";
      list.appendChild(li);
    });
  }
  input.addEventListener("input", search);
})();
