// Crisis pages: Copy buttons for helpline numbers, and focus on a form's error summary.
// Without this file the numbers are still selectable fields and tel: links; the Copy
// buttons simply stay hidden.
(function () {
  "use strict";

  var status = document.getElementById("copy-status");

  function announce(message) { window.KB.announce(status, message); }

  function setup(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var label = button.firstChild; // the visible "Copy" text node
    var timer = null;
    button.hidden = false;
    button.addEventListener("click", function () {
      window.KB.copy(field).then(function (ok) {
        window.clearTimeout(timer);
        label.textContent = ok ? "Copied" : "Select and copy";
        if (ok) {
          announce("Copied " + field.value);
        } else {
          field.focus();
          field.select();
          announce("Press Control C to copy " + field.value);
        }
        timer = window.setTimeout(function () { label.textContent = "Copy"; }, 2000);
      });
    });
  }

  // Clicking or tabbing into a number selects all of it, ready for Ctrl+C.
  document.querySelectorAll("[data-copy-source]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(setup);

  // After a refused form, start at the list of problems (each links to its field).
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
