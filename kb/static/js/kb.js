// Frontline KB: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function isTyping(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // "/" focuses the search box from anywhere, as in most web apps agents know.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
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

  // The snippet arrives as escaped text with <mark> around matches: rebuild it as DOM nodes
  // rather than trusting innerHTML.
  function appendSnippet(parent, snippet) {
    var parts = snippet.split(/(<mark>|<\/mark>)/);
    var inMark = false;
    var scratch = document.createElement("textarea");
    parts.forEach(function (part) {
      if (part === "<mark>") { inMark = true; return; }
      if (part === "</mark>") { inMark = false; return; }
      if (!part) { return; }
      scratch.innerHTML = part; // decodes &amp; &lt; etc.; a textarea never runs markup
      var text = document.createTextNode(scratch.value);
      if (inMark) {
        var mark = document.createElement("mark");
        mark.appendChild(text);
        parent.appendChild(mark);
      } else {
        parent.appendChild(text);
      }
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

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

    function render(data, seq) {
      if (seq !== latest) { return; } // an older, slower answer: ignore it
      list.textContent = "";
      status.textContent = "";
      renderBanner(data.crisis);
      if (panel) { panel.hidden = false; }
      if (data.suggestion) {
        var p = el("p", "suggestion", "Did you mean ");
        var a = el("a", null, data.suggestion);
        a.href = "/search?q=" + encodeURIComponent(data.suggestion);
        a.addEventListener("click", function (event) {
          event.preventDefault();
          input.value = data.suggestion;
          search();
          input.focus();
        });
        p.appendChild(a);
        p.appendChild(document.createTextNode("?"));
        status.appendChild(p);
      }
      if (data.query.trim()) {
        var count = data.total === 1 ? "1 result" : data.total + " results";
        status.appendChild(el("p", null, data.total ? count : "Nothing matched. Try fewer words or another spelling."));
      }
      data.results.forEach(function (hit) {
        var li = el("li", "result");
        var link = el("a", "result__link");
        link.href = hit.url;
        link.appendChild(el("span", "result__title", hit.title));
        li.appendChild(link);
        if (hit.kind === "script") {
          li.classList.add("result--script");
          li.appendChild(el("span", "badge badge--script", "Call script"));
        }
        li.appendChild(el("span", "result__category", hit.category));
        if (hit.summary) { li.appendChild(el("p", "result__summary", hit.summary)); }
        if (hit.snippet) {
          var snippet = el("p", "result__snippet");
          appendSnippet(snippet, hit.snippet);
          li.appendChild(snippet);
        }
        list.appendChild(li);
      });
    }

    // A caller at risk: the same red banner the server renders, linking to the protocol.
    function renderBanner(crisis) {
      if (!banner) { return; }
      banner.textContent = "";
      if (!crisis) { return; }
      var p = el("p", "crisis-banner__text");
      p.setAttribute("role", "alert");
      var link = el("a", null, "Caller at risk? Open the crisis protocol");
      var protocol = document.querySelector("[data-crisis-link]");
      link.href = protocol ? protocol.getAttribute("href") : "/crisis/";
      link.setAttribute("data-crisis-banner", "");
      p.appendChild(link);
      p.appendChild(document.createTextNode(" "));
      p.appendChild(el("kbd", null, "Alt+Shift+C"));
      banner.appendChild(p);
    }

    function search() {
      var q = input.value;
      var seq = ++latest;
      if (controller) { controller.abort(); }
      if (!q.trim()) {
        list.textContent = "";
        status.textContent = "";
        renderBanner(false);
        if (panel) { panel.hidden = true; }
        return;
      }
      controller = window.AbortController ? new AbortController() : null;
      var url = "/api/search?source=typeahead&limit=10&q=" + encodeURIComponent(q);
      if (category && category.value) { url += "&category=" + encodeURIComponent(category.value); }
      if (kind && kind.value) { url += "&kind=" + encodeURIComponent(kind.value); }
      fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined,
                   headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
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
