// Sign page: when a standard asks comprehension questions, the signing fields (tick,
// name, password, button) stay hidden until every question has a choice, then appear and
// are announced. Without JavaScript they show at once; the server checks the answers
// either way (a wrong answer is refused there, naming the question).
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("[data-signoff-quiz]");
    if (!form) { return; }
    var section = form.querySelector("[data-sign-section]");
    var status = form.querySelector("[data-quiz-status]");
    var questions = form.querySelectorAll(".signoff-question");
    if (!section || !status || !questions.length) { return; }

    function answered() {
      var count = 0;
      questions.forEach(function (question) {
        if (question.querySelector("input[type=radio]:checked")) { count += 1; }
      });
      return count;
    }

    function update() {
      var count = answered();
      if (count === questions.length) {
        if (section.hidden) {
          section.hidden = false;
          window.KB.announce(status, "All questions answered: you can sign now.");
        }
        return;
      }
      section.hidden = true;
      status.textContent = "Answer every question to sign: " + count + " of " +
        questions.length + " answered.";
    }

    form.addEventListener("change", update);
    update(); // answers kept after a refused post show the fields at once, unannounced
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
