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
