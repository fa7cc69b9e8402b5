// Copy buttons for quick answers (the article page's box and the search results). The
// buttons are in the page hidden: without this file there is nothing to press, and the
// text is there to select as usual. Results the typeahead swaps in get theirs shown too.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy-text][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function status(button) {
    var own = button.parentNode.querySelector("[data-copy-status]");
    return own || document.getElementById("quick-answer-status");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy-text]") : null;
    if (!button) { return; }
    // KB.copy copies a field's value: a short-lived one, off screen, holds the text.
    var field = document.createElement("textarea");
    field.value = button.getAttribute("data-copy-text");
    field.setAttribute("readonly", "");
    field.setAttribute("aria-hidden", "true");
    field.className = "copy-buffer";
    document.body.appendChild(field);
    window.KB.copy(field).then(function (done) {
      field.remove();
      button.focus();
      window.KB.announce(status(button), done ? "Copied" : "Copy did not work here: select the text and press Ctrl+C.");
      if (done) {
        var label = button.querySelector("[data-copy-label]");
        if (label) {
          label.textContent = "Copied";
          window.setTimeout(function () { label.textContent = "Copy"; }, 2000);
        }
      }
    });
  });

  reveal(document);
  document.querySelectorAll("[data-results]").forEach(function (list) {
    if (window.MutationObserver) {
      new MutationObserver(function () { reveal(list); }).observe(list, { childList: true });
    }
  });
})();
