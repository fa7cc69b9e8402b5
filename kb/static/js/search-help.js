// The search page's "nothing matched" help and "Tell the knowledge team" belong to the
// words searched: while the box holds other words (the typeahead is showing their
// results), they step aside, and come back if the words do.
(function () {
  "use strict";

  var help = document.querySelector("[data-search-help]");
  var input = document.querySelector(".search-form [data-search-input]");
  if (!help || !input) { return; }

  function tidy(text) { return text.trim().split(/\s+/).join(" ").toLowerCase(); }

  input.addEventListener("input", function () {
    help.hidden = tidy(input.value) !== tidy(help.getAttribute("data-query") || "");
  });
})();
