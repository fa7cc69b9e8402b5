// Response-time calculator: show the dates the chosen standard needs as it changes, and
// Copy buttons for the sentences to read out. Without this file the form still works:
// choose a standard, press Work it out, and the page asks for the dates it needs.
(function () {
  "use strict";

  var status = document.getElementById("due-status");

  document.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    window.KB.copy(field).then(function (done) {
      window.KB.announce(status, done ? "Copied: " + field.value
                                      : "Press Ctrl+C to copy the selected text.");
      if (!done) { field.focus(); field.select(); }
    });
  });

  function show(wrapper, on) {
    if (!wrapper) { return; }
    wrapper.hidden = !on;
    wrapper.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
  }

  var form = document.querySelector("[data-due-form]");
  var select = form && form.querySelector("select[name=standard]");
  if (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var fields = (option.getAttribute("data-fields") || "").split(" ").filter(Boolean);
      form.querySelectorAll("[data-event-field]").forEach(function (wrapper) {
        show(wrapper, fields.indexOf(wrapper.getAttribute("data-event-field")) > 0);
      });
      show(form.querySelector("[data-reason-field]"), option.hasAttribute("data-extension"));
      var label = document.getElementById("from-label");
      if (label && option.getAttribute("data-first-label")) {
        label.textContent = option.getAttribute("data-first-label");
      }
    });
  }

  // After working it out, start at the answer: the next Tab reaches the sentence and Copy.
  var heading = document.getElementById("due-heading");
  if (heading) { heading.focus(); }
})();
