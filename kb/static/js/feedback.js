// Article feedback (kb/templates/feedback/_article_feedback.html): send the form in place
// and say the outcome in its live region. Without JavaScript the form posts normally.
(function () {
  "use strict";

  document.querySelectorAll("[data-feedback-form]").forEach(function (form) {
    var status = form.querySelector("[data-feedback-status]");
    var comment = form.querySelector("textarea[name=comment]");

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; } // let the browser post it
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          status.classList.toggle("feedback__status--error", !answer.ok);
          window.KB.announce(status, answer.message);
          if (answer.ok && comment) { comment.value = ""; }
          if (!answer.ok && answer.field === "comment" && comment) { comment.focus(); }
        })
        .catch(function () {
          // Not a JSON answer (say an expired form): post it the old way, button included.
          if (event.submitter && event.submitter.name) {
            var chosen = document.createElement("input");
            chosen.type = "hidden";
            chosen.name = event.submitter.name;
            chosen.value = event.submitter.value;
            form.appendChild(chosen);
          }
          form.submit();
        });
    });
  });
})();
