// Frontline KB: helpers shared by the page scripts (loaded first, on every page).
// window.KB.isTyping(target)      true while the focus is in a field (leave keys alone)
// window.KB.announce(node, text)  say text through a live region, even when repeated
// window.KB.copy(field)           copy a field's value; resolves true when it worked
(function () {
  "use strict";

  function isTyping(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function announce(node, message) {
    if (!node) { return; }
    node.textContent = "";
    // A fresh text node after a tick makes screen readers announce a repeated message too.
    window.setTimeout(function () { node.textContent = message; }, 50);
  }

  function copyByHand(field) {
    field.focus();
    field.select();
    try {
      return Boolean(document.execCommand && document.execCommand("copy"));
    } catch (error) {
      return false;
    }
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value).then(
        function () { return true; },
        function () { return copyByHand(field); }
      );
    }
    return Promise.resolve(copyByHand(field)); // plain-http intranets have no clipboard API
  }

  window.KB = { isTyping: isTyping, announce: announce, copy: copy };
})();
