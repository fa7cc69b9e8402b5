// Hold page: draws the call in full (state, clock, stats, prompts) from the shared store in
// callbar.js (window.KB.call), which also owns the rules, the keys, the sound and the tab
// title. A hold started or stopped here shows in the header bar of every tab, and back.
(function () {
  "use strict";

  var root = document.querySelector("[data-hold-timer]");
  var call = window.KB && window.KB.call;
  if (!root || !call) { return; }
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 45;
  var intervalWords = root.getAttribute("data-interval-words") || "45 seconds";
  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    state: $("hold-state"), clock: $("hold-elapsed"), next: $("hold-next"),
    toggle: $("hold-toggle"), toggleLabel: $("hold-toggle").querySelector("[data-label]"),
    checked: $("hold-checked"), newCall: $("hold-new-call"), count: $("hold-count"),
    total: $("hold-total"), checkins: $("hold-checkins"), prompt: $("hold-prompt"),
    thanks: $("hold-thanks"), thanksDetail: $("hold-thanks-detail"), live: $("hold-live"),
    sound: $("hold-sound")
  };
  document.querySelectorAll("[data-fill]").forEach(function (node) {
    var source = document.querySelector('[data-words="' + node.getAttribute("data-fill") + '"]');
    node.textContent = source ? source.textContent.replace(/\s+/g, " ").trim() : "";
  });
  call.setDefaultInterval(interval);
  call.useLiveRegion(ui.live);

  function render(state) {
    var hold = state.current;
    var now = Date.now();
    var onHold = !!hold;
    var due = onHold && call.reminder(hold, now) > 0;
    var held = onHold ? now - hold.start : 0;
    ui.state.textContent = onHold ? (due ? "On hold: check back now" : "On hold") : "Not on hold";
    root.classList.toggle("is-on-hold", onHold);
    root.classList.toggle("is-due", due);
    ui.clock.textContent = call.clock(onHold ? held : (state.last ? state.last.ms : 0));
    if (onHold) {
      ui.next.textContent = due ? "Check back now, then press C if they are happy to keep holding."
        : "Next check-in in " + call.clock(call.nextAt(hold, now) - now) + ".";
    } else {
      ui.next.textContent = "Check back every " + intervalWords + " once the caller is on hold.";
    }
    ui.toggleLabel.textContent = onHold ? "Return from hold" : "Start hold";
    ui.checked.disabled = !onHold;
    ui.count.textContent = String(call.holdCount(state));
    ui.total.textContent = call.clock(call.finishedMs(state) + held);
    ui.checkins.textContent = String(onHold ? hold.checkins : 0);
    ui.prompt.hidden = !due;
    ui.thanks.hidden = onHold || !state.last;
    if (state.last) {
      ui.thanksDetail.textContent = "That hold lasted " + call.inWords(state.last.ms) + ". Holds this call: " +
        call.holdCount(state) + ", " + call.clock(call.finishedMs(state)) + " in all.";
    }
    if (ui.sound) { ui.sound.checked = call.soundOn(); }
  }

  ui.toggle.addEventListener("click", function () { call.toggle(interval); });
  ui.checked.addEventListener("click", call.checkedBack);
  ui.newCall.addEventListener("click", call.newCall);
  if (ui.sound) { ui.sound.addEventListener("change", function () { call.setSound(ui.sound.checked); }); }

  root.hidden = false;
  document.querySelectorAll("[data-hold-nojs]").forEach(function (node) { node.hidden = true; });
  call.subscribe(render);
})();
