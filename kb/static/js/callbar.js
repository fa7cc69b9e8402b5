// Call bar: the one store and set of rules for the call in progress (a hold running, the
// holds this call, check-ins), shown in the header of every signed-in page and in full by
// the hold page (hold.js draws that page through window.KB.call).
//
// The state lives in localStorage, so every tab of this browser shares it; the `storage`
// event tells the other tabs when it changes. Times are worked out from stored timestamps,
// never counted, so tabs agree with each other and a reload keeps a hold going.
// Keys S, C and N work on every page, except while typing in a box or when the page has
// already used the key (the call script player's C copies its summary).
// The call belongs to the person signed in (a shared desk): the store names them, a page
// for anyone else (or nobody) reads it as no call, and signing out deletes it, so the next
// person never sees a hold that was running when the last one left.
(function () {
  "use strict";

  var KEY = "kb.call";
  var SOUND_KEY = "kb.call.sound";
  var THANKS_MS = 20000; // how long the bar shows the thank-you words after a hold
  var MIN_INTERVAL = 5;
  var MAX_INTERVAL = 600;
  var listeners = [];
  var liveRegion = null;
  var baseTitle = document.title;

  // --- the header: sticky, and focused or linked-to elements scroll clear of it -------
  var header = document.querySelector("[data-site-header]");
  function measureHeader() {
    if (header) {
      document.documentElement.style.setProperty("--header-height", header.offsetHeight + "px");
    }
  }
  if (header && window.ResizeObserver) { new window.ResizeObserver(measureHeader).observe(header); }
  measureHeader();

  // --- store ----------------------------------------------------------------------------
  // user: whose call it is (the bar's data-callbar-user); holds: finished holds this call
  // [{ms, checkins}]; current: the hold in progress {start, checked (last check-in, or the
  // start), interval (ms), checkins, sounded}; last: the hold just finished {ms, at}.
  var barNode = document.querySelector("[data-callbar]");
  var owner = barNode ? barNode.getAttribute("data-callbar-user") : null;

  function fresh() { return { user: owner, holds: [], current: null, last: null }; }

  function read() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY));
      return saved && Array.isArray(saved.holds) && owner && saved.user === owner ? saved : fresh();
    } catch (error) { return memory || fresh(); }
  }

  var memory = null; // when the browser refuses storage, this tab keeps its own state
  var state = read();

  function write(next, change) {
    next.user = owner;
    state = next;
    memory = next;
    try { window.localStorage.setItem(KEY, JSON.stringify(next)); } catch (error) { /* private mode */ }
    notify(change);
  }

  function notify(change) {
    listeners.forEach(function (listener) { listener(state, change); });
  }

  // Signing out ends the call in this browser (every tab hears of it through `storage`).
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("[data-sign-out]")) {
      try { window.localStorage.removeItem(KEY); } catch (error) { /* private mode */ }
    }
  });

  window.addEventListener("storage", function (event) {
    if (event.key === KEY || event.key === null) {
      state = read();
      notify({ type: "sync" });
    } else if (event.key === SOUND_KEY) {
      notify({ type: "sound" });
    }
  });

  // --- rules ----------------------------------------------------------------------------
  function clampSeconds(seconds) {
    var value = parseInt(seconds, 10);
    if (isNaN(value)) { value = 45; }
    return Math.max(MIN_INTERVAL, Math.min(MAX_INTERVAL, value));
  }

  function dueAt(hold) { return hold.checked + hold.interval; }

  // 0 until the first check-in is due, then 1, 2, ...: one more every interval until
  // the agent checks back.
  function reminder(hold, now) {
    if (!hold || now < dueAt(hold)) { return 0; }
    return Math.floor((now - dueAt(hold)) / hold.interval) + 1;
  }

  function nextAt(hold, now) { return dueAt(hold) + reminder(hold, now) * hold.interval; }

  function finishedMs(s) { return s.holds.reduce(function (sum, hold) { return sum + hold.ms; }, 0); }

  function holdCount(s) { return s.holds.length + (s.current ? 1 : 0); }

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

  function intervalWords(ms) { return inWords(ms); }

  // --- actions (each reads the store afresh, so another tab's change is never undone) -----
  var words = { checkin: "", "return": "" };
  var defaultInterval = 45;

  function start(seconds) {
    var s = read();
    if (s.current) { return; }
    var now = Date.now();
    var interval = clampSeconds(seconds === undefined ? defaultInterval : seconds) * 1000;
    s.current = { start: now, checked: now, interval: interval, checkins: 0, sounded: 0 };
    s.last = null;
    write(s, { type: "start", local: true });
    say("On hold. Hold " + holdCount(s) + " this call. Check back in " + intervalWords(interval) + ".");
  }

  function finish() {
    var s = read();
    if (!s.current) { return; }
    var now = Date.now();
    var ms = now - s.current.start;
    s.holds.push({ ms: ms, checkins: s.current.checkins });
    s.current = null;
    s.last = { ms: ms, at: now };
    write(s, { type: "finish", local: true });
    say("Off hold after " + inWords(ms) + ". Thank the caller: " + words["return"]);
  }

  function toggle(seconds) {
    if (read().current) { finish(); } else { start(seconds); }
  }

  function checkedBack() {
    var s = read();
    if (!s.current) { return; }
    s.current.checkins += 1;
    s.current.checked = Date.now();
    s.current.sounded = 0;
    write(s, { type: "checkin", local: true });
    say("Checked back. Next check-in in " + intervalWords(s.current.interval) + ".");
  }

  function newCall() {
    write(fresh(), { type: "newcall", local: true });
    say("New call. Hold count reset to 0.");
  }

  function say(message) { window.KB.announce(liveRegion, message); }

  // --- sound: a short two-note beep through the Web Audio API, no file to fetch -----------
  // On unless the agent switches it off (the prompt exists to reach an agent who is looking
  // at another window); the choice is kept for this browser. Browsers only let a page make
  // sound once it has been clicked or typed in, so the context is made on the first one.
  var audio = null;

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) !== "off"; } catch (error) { return true; }
  }

  function setSound(on) {
    try { window.localStorage.setItem(SOUND_KEY, on ? "on" : "off"); } catch (error) { /* private mode */ }
    notify({ type: "sound", local: true });
  }

  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    if (!audio) {
      try { audio = new Context(); } catch (error) { audio = null; return; }
    }
    if (audio.state === "suspended") { audio.resume(); }
  }
  document.addEventListener("keydown", wakeAudio, { once: true, capture: true });
  document.addEventListener("pointerdown", wakeAudio, { once: true, capture: true });

  function canBeep() { return !!audio && audio.state === "running"; }

  function beep() {
    var now = audio.currentTime;
    [[660, 0], [880, 0.18]].forEach(function (note) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, now + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.2, now + note[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + note[1] + 0.15);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(now + note[1]);
      osc.stop(now + note[1] + 0.16);
    });
  }

  // One tab beeps for each reminder: a visible tab claims it at once, a hidden one after a
  // moment (in case no tab is visible), and only a tab that is allowed to make sound.
  function maybeBeep(hold, n, now) {
    if (!n || n <= (hold.sounded || 0) || !soundOn() || !canBeep()) { return; }
    var remindedAt = dueAt(hold) + (n - 1) * hold.interval;
    if (document.visibilityState !== "visible" && now - remindedAt < 1500) { return; }
    claim("kb-call-beep:" + hold.start + ":" + n, function () {
      var s = read();
      if (!s.current || s.current.start !== hold.start || (s.current.sounded || 0) >= n) {
        return;
      }
      s.current.sounded = n;
      write(s, { type: "sounded", local: true });
      beep();
    });
  }

  // Two tabs can read the store in the same instant, before either's write reaches the
  // other, and both beep. A Web Lock (one per reminder, shared by the browser's tabs of
  // this site) settles it: the tab that gets it beeps and keeps it for a while, long after
  // its "sounded" mark has reached every tab; the others find it taken and stay quiet.
  var CLAIM_HELD_MS = 10000;
  function claim(name, then) {
    if (!(navigator.locks && navigator.locks.request)) { then(); return; }
    navigator.locks.request(name, { ifAvailable: true }, function (lock) {
      if (!lock) { return null; }
      then();
      return new Promise(function (resolve) { setTimeout(resolve, CLAIM_HELD_MS); });
    }).catch(function () { /* a lock refused is a beep another tab made */ });
  }

  // --- the check-in prompt, announced once per reminder in every tab -----------------------
  var announced = { checked: null, n: 0 };

  function remind(hold, n, now) {
    if (!n) { return; }
    if (announced.checked === hold.checked && announced.n >= n) { return; }
    announced = { checked: hold.checked, n: n };
    say((n === 1 ? "Check back with the caller now. " : "Still on hold: check back now. ") +
      inWords(now - hold.start) + " on hold. Say: " + words.checkin);
  }

  function tick() {
    var now = Date.now();
    var hold = state.current;
    if (hold) {
      var n = reminder(hold, now);
      remind(hold, n, now);
      maybeBeep(hold, n, now);
    }
    document.title = hold
      ? "⏸ " + (reminder(hold, now) ? "Check back! " : "") + clock(now - hold.start) + " on hold · " + baseTitle
      : baseTitle;
    notify({ type: "tick" });
  }

  // --- the API the hold page uses ------------------------------------------------------------
  window.KB = window.KB || {};
  window.KB.call = {
    state: function () { return state; },
    start: start, finish: finish, toggle: toggle, checkedBack: checkedBack, newCall: newCall,
    reminder: reminder, nextAt: nextAt, finishedMs: finishedMs, holdCount: holdCount,
    clock: clock, inWords: inWords, soundOn: soundOn, setSound: setSound,
    subscribe: function (listener) { listeners.push(listener); listener(state, { type: "init" }); },
    // The hold page says things through its own live region, so nothing is said twice.
    useLiveRegion: function (node) { liveRegion = node; },
    // A hold started from the hold page uses that page's interval (it may be set by ?interval=).
    setDefaultInterval: function (seconds) { defaultInterval = clampSeconds(seconds); }
  };

  // --- the bar in the header -------------------------------------------------------------
  var bar = barNode;
  if (!bar) { return; }
  defaultInterval = clampSeconds(bar.getAttribute("data-callbar-interval"));
  var q = function (name) { return bar.querySelector("[data-callbar-" + name + "]"); };
  var ui = {
    panel: q("panel"), state: q("state"), clock: q("clock"), next: q("next"), count: q("count"),
    toggle: q("toggle"), toggleLabel: q("toggle").querySelector("[data-label]"), checked: q("checked"),
    newCall: q("new"), sound: q("sound"), prompt: q("prompt"), thanks: q("thanks"), live: q("live")
  };
  words.checkin = (q("say-checkin") || {}).textContent || "";
  words["return"] = (q("say-return") || {}).textContent || "";
  liveRegion = ui.live;
  var holdPage = document.querySelector("[data-hold-timer]");

  function render() {
    var now = Date.now();
    var s = state;
    var hold = s.current;
    var n = reminder(hold, now);
    var thanking = !hold && s.last && s.last.at && now - s.last.at < THANKS_MS;
    ui.panel.hidden = !!holdPage || (!hold && !s.holds.length); // the hold page shows it all
    bar.classList.toggle("is-on-hold", !!hold);
    bar.classList.toggle("is-due", n > 0);
    ui.state.textContent = hold ? (n ? "On hold: check back now" : "On hold") : "Off hold. Total on hold:";
    ui.clock.textContent = clock(hold ? now - hold.start : finishedMs(s));
    ui.clock.setAttribute("aria-label", hold ? "Time on hold" : "Total hold time this call");
    ui.next.textContent = hold && !n ? "Check-in in " + clock(nextAt(hold, now) - now) : "";
    ui.next.hidden = !hold || n > 0; // once due, the state and the prompt say so
    ui.count.textContent = String(holdCount(s));
    ui.toggleLabel.textContent = hold ? "Off hold" : "Start hold";
    ui.checked.hidden = !hold;
    ui.newCall.hidden = !!hold;
    ui.sound.checked = soundOn();
    ui.prompt.hidden = !n;
    ui.thanks.hidden = !thanking;
  }

  ui.toggle.addEventListener("click", function () { toggle(); });
  ui.checked.addEventListener("click", checkedBack);
  ui.newCall.addEventListener("click", newCall);
  ui.sound.addEventListener("change", function () { setSound(ui.sound.checked); });

  // Listening on window, after the page's own handlers on document: a page that uses the
  // key itself (and says so with preventDefault) keeps it.
  window.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat ||
        window.KB.isTyping(event.target)) { return; }
    var key = (event.key || "").toLowerCase();
    var action = {
      s: function () { toggle(); },
      c: state.current ? checkedBack : null,
      n: state.current || state.holds.length ? newCall : null
    }[key];
    if (!action) { return; }
    event.preventDefault();
    wakeAudio();
    action();
  });

  listeners.push(render);
  render();
  tick();
  window.setInterval(tick, 250);
})();
