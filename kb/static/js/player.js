// Call script player: keyboard shortcuts and the Copy button. The player works without this
// file (choices are form buttons, the summary textarea can be selected and copied by hand).
(function () {
  "use strict";

  var player = document.querySelector("[data-player]");
  if (!player) { return; }

  var status = player.querySelector("[data-copy-status]");
  var summary = player.querySelector("[data-summary]");
  var copyButton = player.querySelector("[data-copy]");
  var hints = player.querySelector("[data-key-hints]");
  if (hints) { hints.hidden = false; }

  function say(message) { window.KB.announce(status, message); }

  function copySummary() {
    if (!summary) { return; }
    window.KB.copy(summary).then(function (done) {
      say(done ? "Summary copied." : "Press Ctrl+C to copy the selected summary.");
    });
  }

  if (copyButton && summary) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", copySummary);
  }

  // Live filling: as a capture field changes, the placeholders that name it in the words
  // to say show the new value, and the call summary is rebuilt with it (the same lines as
  // summary_details in kb/callscripts/walk.py), so Copy never takes a stale summary.
  var form = player.querySelector(".player__form");
  var parts = null;
  if (summary && summary.getAttribute("data-summary-parts")) {
    try { parts = JSON.parse(summary.getAttribute("data-summary-parts")); } catch (e) { parts = null; }
  }
  if (parts) {
    Array.prototype.forEach.call(player.querySelectorAll("[data-summary-static]"), function (n) { n.hidden = true; });
    Array.prototype.forEach.call(player.querySelectorAll("[data-summary-live]"), function (n) { n.hidden = false; });
  }

  function fieldValue(key) {
    var field = form && form.elements.namedItem(key);
    return field && typeof field.value === "string" ? field.value : "";
  }

  function oneLine(text) { return text.split(/\s+/).filter(Boolean).join(" "); }

  function rebuildSummary() {
    var found = [];
    parts.items.forEach(function (item) {
      var value;
      if (item.key) {
        value = fieldValue(item.key).replace(/\r\n/g, "\n");
        value = item.long ? value.trim() : oneLine(value);
      } else {
        value = item.text;
      }
      if (value) { found.push([item.label, value]); }
    });
    var lines = [found.length ? "Details captured:" : "No details captured."];
    found.forEach(function (pair) {
      if (pair[1].indexOf("\n") !== -1) {
        lines.push(pair[0] + ":");
        pair[1].split("\n").forEach(function (part) { lines.push("  " + part); });
      } else {
        lines.push(pair[0] + ": " + pair[1]);
      }
    });
    summary.value = parts.head + "\n" + lines.join("\n");
    summary.rows = Math.min(summary.value.split("\n").length + 2, 24);
  }

  function fillPlaceholders(key, value) {
    var shown = oneLine(value);
    Array.prototype.forEach.call(player.querySelectorAll("[data-fill][data-placeholder]"), function (span) {
      if (span.getAttribute("data-fill") !== key) { return; }
      span.textContent = shown || span.getAttribute("data-placeholder");
      span.className = shown ? "say__filled" : "say__blank";
    });
  }

  if (form) {
    form.addEventListener("input", function (event) {
      var field = event.target;
      if (!field.hasAttribute || !field.hasAttribute("data-capture")) { return; }
      fillPlaceholders(field.name, field.value);
      if (parts) { rebuildSummary(); }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (window.KB.isTyping(event.target)) {
      // Esc leaves a capture field so the number keys choose again.
      if (event.key === "Escape" && event.target.hasAttribute("data-capture")) {
        event.preventDefault();
        var heading = document.querySelector("[data-step-heading]");
        if (heading) { heading.focus(); } else { event.target.blur(); }
      }
      return;
    }
    var key = event.key;
    var target = null;
    if (/^[1-9]$/.test(key)) {
      target = player.querySelector('[data-choice="' + key + '"]');
    } else if (key === "b" || key === "B") {
      target = player.querySelector("[data-back]");
    } else if (key === "a" || key === "A") {
      var link = player.querySelector("[data-cited] a");
      if (link) { event.preventDefault(); link.focus(); }
      return;
    } else if ((key === "c" || key === "C") && copyButton && summary) {
      event.preventDefault();
      copySummary();
      return;
    }
    if (target) {
      event.preventDefault();
      target.click();
    }
  });

  // Land on the step's heading so a screen reader starts reading at the new step.
  var heading = document.querySelector("[data-step-heading]");
  if (heading && document.activeElement === document.body) {
    heading.focus({ preventScroll: true });
  }
})();
