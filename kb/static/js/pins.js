// The "Pin to my home page" button of an article (kb/templates/articles/_pin.html): pin or
// unpin in place and say so in the status next to it. Without JavaScript the form posts
// and the page comes back with the same message.
(function () {
  "use strict";

  document.querySelectorAll("[data-pin-form]").forEach(function (form) {
    var button = form.querySelector("[data-pin-button]");
    var status = form.querySelector("[data-pin-status]");
    var busy = false; // not button.disabled: that would drop the keyboard focus

    function show(pinned) {
      form.action = pinned ? form.dataset.unpinUrl : form.dataset.pinUrl;
      button.textContent = pinned ? "Unpin from my home page" : "Pin to my home page";
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; } // let the browser post it
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          busy = false;
          show(answer.pinned);
          status.classList.toggle("pin-form__status--error", !answer.ok);
          window.KB.announce(status, answer.message);
        })
        .catch(function () {
          form.submit(); // not a JSON answer (say an expired form): post it the old way
        });
    });
  });
})();
