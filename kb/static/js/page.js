// Small things every page does.
// - After a refused form, the page starts at its error summary (_error_summary.html), so
//   the list of what to fix (each linked to its field) is read first.
// - The header's menus ("Manage", and the person's own pages under their name) are
//   <details>: they open and close without JavaScript, by mouse, Enter or Space. This adds
//   what a menu is expected to do besides: Escape closes it and puts focus back on its
//   summary; a click or focus anywhere else closes it.
(function () {
  "use strict";

  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  var menus = Array.prototype.slice.call(document.querySelectorAll("[data-nav-menu]"));
  if (!menus.length) { return; }

  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except && menu.open) { menu.open = false; }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus.forEach(function (menu) {
      if (!menu.open) { return; }
      var inside = menu.contains(document.activeElement);
      menu.open = false;
      if (inside) { menu.querySelector("summary").focus(); }
      event.preventDefault();
    });
  });

  document.addEventListener("click", function (event) {
    closeAll(event.target.closest ? event.target.closest("[data-nav-menu]") : null);
  });

  document.addEventListener("focusin", function (event) {
    closeAll(event.target.closest ? event.target.closest("[data-nav-menu]") : null);
  });
})();
