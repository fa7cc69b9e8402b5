// Frontline KB: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // "/" focuses the search box from anywhere, as in most web apps agents know.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || window.KB.isTyping(event.target)) {
      return;
    }
    var box = document.getElementById("q") || document.querySelector("[data-search-input]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Alt+Shift+C opens the crisis protocol from any page, even while typing in a field.
  document.addEventListener("keydown", function (event) {
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey &&
        (event.code === "KeyC" || event.key === "C" || event.key === "c")) {
      var link = document.querySelector("[data-crisis-link]");
      if (link) {
        event.preventDefault();
        window.location.href = link.href;
      }
    }
  });

  function setupTypeahead(form) {
    var input = form.querySelector("[data-search-input]");
    var category = form.querySelector("select[name=category]");
    var kind = form.querySelector("input[name=kind]");
    if (!input || !window.fetch) { return; }
    // The results list is named by the box's aria-controls; it names its status line and
    // banner slot (the header's drop-down has its own, the home and search pages theirs).
    var list = document.getElementById(input.getAttribute("aria-controls") || "search-results");
    if (!list) { return; }
    var status = document.getElementById(list.getAttribute("data-status") || "search-status");
    var banner = document.getElementById(list.getAttribute("data-banner") || "search-banner");
    var panel = form.querySelector("[data-typeahead-panel]");
    if (!status) { return; }
    var timer = null;
    var controller = null;
    var latest = 0;

    // The server renders the results (kb/templates/search/_results.html, the same
    // fragment as the search page); this only moves its parts into this box's slots.
    function render(html, seq) {
      if (seq !== latest) { return; } // an older, slower answer: ignore it
      var fragment = document.createElement("template");
      fragment.innerHTML = html;
      var parts = fragment.content;
      var served = {
        banner: parts.querySelector("[data-crisis-banner-slot]"),
        status: parts.querySelector(".search-status"),
        list: parts.querySelector("[data-results]"),
        empty: parts.querySelector(".empty-state")
      };
      if (banner) { banner.innerHTML = served.banner ? served.banner.innerHTML : ""; }
      status.innerHTML = served.status ? served.status.innerHTML : "";
      if (served.empty) { status.innerHTML += served.empty.innerHTML; }
      list.innerHTML = served.list ? served.list.innerHTML : "";
      if (panel) { panel.hidden = false; }
    }

    function clear() {
      list.textContent = "";
      status.textContent = "";
      if (banner) { banner.textContent = ""; }
    }

    // "Did you mean": take the suggestion into the box and search again, in place.
    status.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest(".suggestion a") : null;
      if (!link) { return; }
      event.preventDefault();
      input.value = link.textContent;
      search();
      input.focus();
    });

    function search() {
      var q = input.value;
      var seq = ++latest;
      if (controller) { controller.abort(); }
      if (!q.trim()) {
        clear();
        if (panel) { panel.hidden = true; }
        return;
      }
      controller = window.AbortController ? new AbortController() : null;
      var url = "/search/suggest?q=" + encodeURIComponent(q);
      if (category && category.value) { url += "&category=" + encodeURIComponent(category.value); }
      if (kind && kind.value) { url += "&kind=" + encodeURIComponent(kind.value); }
      fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined,
                   headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (data) {
          if (data) {
            render(data, seq);
            var here = "/search?q=" + encodeURIComponent(q) +
              (category && category.value ? "&category=" + encodeURIComponent(category.value) : "") +
              (kind && kind.value ? "&kind=" + encodeURIComponent(kind.value) : "");
            if (window.location.pathname === "/search") { window.history.replaceState(null, "", here); }
          }
        })
        .catch(function () { /* aborted or offline: the form still submits normally */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 120);
    });
    if (category) { category.addEventListener("change", search); }
    // The header's drop-down closes with Escape, as a menu would.
    if (panel) {
      form.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && !panel.hidden) { panel.hidden = true; input.focus(); }
      });
    }

    function links() { return Array.prototype.slice.call(list.querySelectorAll(".result__link")); }
    function mark(active) {
      links().forEach(function (link) {
        link.parentNode.classList.toggle("is-active", link === active);
      });
    }

    // Arrow keys move from the box into the results and between them; Enter on a result
    // follows its link (the browser's own behaviour for a focused link).
    form.parentNode.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
      var items = links();
      if (!items.length) { return; }
      var index = items.indexOf(document.activeElement);
      if (document.activeElement === input) { index = -1; }
      else if (index === -1) { return; }
      event.preventDefault();
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (next < 0) { mark(null); input.focus(); return; }
      if (next >= items.length) { next = items.length - 1; }
      items[next].focus();
      mark(items[next]);
    });
    list.addEventListener("focusout", function () { window.setTimeout(function () {
      if (!list.contains(document.activeElement)) { mark(null); }
    }, 0); });
  }

  document.querySelectorAll("form[data-typeahead]").forEach(setupTypeahead);
})();
