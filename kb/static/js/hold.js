// Hold timer: counts a hold up, prompts a check-in every interval (visibly and through an
// aria-live region), and counts the holds in a call. State lives in sessionStorage so
// opening an article in the same tab and coming back does not lose a hold in progress.
(function () {
  "use strict";

  var root = document.querySelector("[data-hold-timer]");
  if (!root) { return; }
  var KEY = "kb.hold";
  var interval = Math.max(5, parseInt(root.getAttribute("data-interval"), 10) || 45) * 1000;
  var intervalWords = root.getAttribute("data-interval-words") || "45 seconds";
  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    state: $("hold-state"), clock: $("hold-elapsed"), next: $("hold-next"),
    toggle: $("hold-toggle"), toggleLabel: $("hold-toggle").querySelector("[data-label]"),
    checked: $("hold-checked"), newCall: $("hold-new-call"), count: $("hold-count"),
    total: $("hold-total"), checkins: $("hold-checkins"), prompt: $("hold-prompt"),
    thanks: $("hold-thanks"), thanksDetail: $("hold-thanks-detail"), live: $("hold-live")
  };
  var baseTitle = document.title;
  var words = {};
  document.querySelectorAll("[data-words]").forEach(function (node) {
    words[node.getAttribute("data-words")] = node.textContent.replace(/\s+/g, " ").trim();
  });
  document.querySelectorAll("[data-fill]").forEach(function (node) {
    node.textContent = words[node.getAttribute("data-fill")] || "";
  });

  // holds: finished holds this call, [{ms, checkins}]; current: the hold in progress.
  var state = load() || fresh();

  function fresh() { return { holds: [], current: null, last: null }; }

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(KEY));
      return saved && Array.isArray(saved.holds) ? saved : null;
    } catch (error) { return null; }
  }

  function save() {
    try { window.sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (error) { /* private mode */ }
  }

  function clock(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function inWords(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    var parts = [];
    if (m) { parts.push(m + (m === 1 ? " minute" : " minutes")); }
    if (s || !m) { parts.push(s + (s === 1 ? " second" : " seconds")); }
    return parts.join(" ");
  }

  function announce(message) { window.KB.announce(ui.live, message); }

  function finishedMs() {
    return state.holds.reduce(function (sum, hold) { return sum + hold.ms; }, 0);
  }

  function holdCount() { return state.holds.length + (state.current ? 1 : 0); }

  function start() {
    var now = Date.now();
    state.current = { start: now, due: now + interval, prompted: false, checkins: 0 };
    state.last = null;
    save();
    announce("On hold. Hold " + holdCount() + " this call. Check back in " + intervalWords + ".");
    render();
  }

  function finish() {
    var hold = state.current;
    var ms = Date.now() - hold.start;
    state.holds.push({ ms: ms, checkins: hold.checkins });
    state.current = null;
    state.last = { ms: ms };
    save();
    announce("Off hold after " + inWords(ms) + ". Thank the caller: " + words["return"]);
    render();
  }

  function checkedBack() {
    if (!state.current) { return; }
    state.current.checkins += 1;
    state.current.prompted = false;
    state.current.due = Date.now() + interval;
    save();
    announce("Checked back. Next check-in in " + intervalWords + ".");
    render();
  }

  function newCall() {
    state = fresh();
    save();
    announce("New call. Hold count reset to 0.");
    render();
  }

  function tick() {
    var hold = state.current;
    if (hold && Date.now() >= hold.due) {
      // Remind again every interval until the agent checks back.
      var first = !hold.prompted;
      hold.prompted = true;
      hold.due = Date.now() + interval;
      save();
      var held = inWords(Date.now() - hold.start);
      announce((first ? "Check back with the caller now. " : "Still on hold: check back now. ") +
        held + " on hold. Say: " + words.checkin);
    }
    render();
  }

  function render() {
    var hold = state.current;
    var now = Date.now();
    var onHold = !!hold;
    var due = onHold && hold.prompted;
    ui.state.textContent = onHold ? (due ? "On hold: check back now" : "On hold") : "Not on hold";
    root.classList.toggle("is-on-hold", onHold);
    root.classList.toggle("is-due", due);
    ui.clock.textContent = clock(onHold ? now - hold.start : (state.last ? state.last.ms : 0));
    if (onHold) {
      ui.next.textContent = due ? "Check back now, then press C if they are happy to keep holding."
        : "Next check-in in " + clock(hold.due - now) + ".";
    } else {
      ui.next.textContent = "Check back every " + intervalWords + " once the caller is on hold.";
    }
    ui.toggleLabel.textContent = onHold ? "Return from hold" : "Start hold";
    ui.checked.disabled = !onHold;
    ui.count.textContent = String(holdCount());
    ui.total.textContent = clock(finishedMs() + (onHold ? now - hold.start : 0));
    ui.checkins.textContent = String(onHold ? hold.checkins : 0);
    ui.prompt.hidden = !due;
    ui.thanks.hidden = onHold || !state.last;
    if (state.last) {
      ui.thanksDetail.textContent = "That hold lasted " + inWords(state.last.ms) + ". Holds this call: " +
        holdCount() + ", " + clock(finishedMs()) + " in all.";
    }
    document.title = onHold ? (due ? "Check back! " : "On hold ") + clock(now - hold.start) + " · " + baseTitle
      : baseTitle;
  }


  ui.toggle.addEventListener("click", function () { if (state.current) { finish(); } else { start(); } });
  ui.checked.addEventListener("click", checkedBack);
  ui.newCall.addEventListener("click", newCall);
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || window.KB.isTyping(event.target)) { return; }
    var key = (event.key || "").toLowerCase();
    var button = { s: ui.toggle, c: ui.checked, n: ui.newCall }[key];
    if (!button || button.disabled) { return; }
    event.preventDefault();
    button.click();
  });

  root.hidden = false;
  document.querySelectorAll("[data-hold-nojs]").forEach(function (node) { node.hidden = true; });
  render();
  window.setInterval(tick, 250);
})();
