// Phonetic speller: results as you type, Copy buttons, and Print on the reference card.
// The page works without this file: the form submits and the server renders the result.
(function () {
  "use strict";

  var status = document.getElementById("phonetic-status");

  function say(message) { window.KB.announce(status, message); }

  function revealButtons(root) {
    root.querySelectorAll("[data-copy], [data-print]").forEach(function (button) {
      button.hidden = false;
    });
  }


  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-print]");
    if (!button) { return; }
    if (button.hasAttribute("data-print")) { window.print(); return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    window.KB.copy(field).then(function (done) {
      say(done ? "Copied: " + field.value : "Press Ctrl+C to copy the selected text.");
      if (!done) { field.focus(); field.select(); }
    });
  });

  revealButtons(document);

  var form = document.querySelector("[data-phonetic-form]");
  var result = document.querySelector("[data-phonetic-result]");
  if (!form || !result || !window.fetch || !window.URLSearchParams) { return; }
  var input = form.querySelector("input[name=text]");
  var timer = null;
  var controller = null;
  var latest = 0;

  function update() {
    var params = new URLSearchParams(new FormData(form));
    var seq = ++latest;
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(form.getAttribute("data-result-url") + "?" + params.toString(), {
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (seq !== latest) { return; } // an older, slower answer: ignore it
        result.innerHTML = html; // our own server-rendered, escaped fragment
        revealButtons(result);
        var failed = !!result.querySelector("#ph-error");
        input.setAttribute("aria-invalid", failed ? "true" : "false");
        input.setAttribute("aria-describedby", "text-hint" + (failed ? " ph-error" : ""));
        var here = form.getAttribute("action") + (input.value.trim() ? "?" + params.toString() : "");
        window.history.replaceState(null, "", here);
      })
      .catch(function () { /* aborted or offline: the form still submits normally */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 150);
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "mode") { update(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    update();
  });
})();
