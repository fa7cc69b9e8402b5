// The publishing editor: formatting toolbar, article link picker and the live preview.
// Without JavaScript the form still works: the Preview button re-renders the page.
(function () {
  "use strict";
  const form = document.querySelector("[data-editor]");
  if (!form) return;
  const area = form.querySelector("textarea[name=markdown]");
  const pane = document.querySelector("[data-preview]");
  const toolbar = form.querySelector("[data-editor-toolbar]");
  const token = form.querySelector("input[name=csrf_token]").value;
  let timer = null;
  let sequence = 0;

  function refresh() {
    const mine = ++sequence;
    const body = new URLSearchParams({ markdown: area.value, kind: form.dataset.kind });
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
    })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        if (mine !== sequence) return; // a later keystroke's preview wins
        pane.innerHTML = html; // rendered and sanitised on the server
        pane.dataset.state = "fresh";
      })
      .catch(() => { pane.dataset.state = "failed"; });
  }

  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });

  function insert(text, atLineStart) {
    const start = area.selectionStart;
    const end = area.selectionEnd;
    let at = start;
    if (atLineStart) at = area.value.lastIndexOf("\n", start - 1) + 1;
    area.setRangeText(text, at, atLineStart ? at : end, "end");
    area.focus();
    area.dispatchEvent(new Event("input"));
  }

  if (toolbar) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.prefix) insert(button.dataset.prefix, true);
      else if (button.dataset.block) insert("\n" + button.dataset.block, false);
      else if ("insertLink" in button.dataset) {
        const input = document.getElementById("link-slug");
        const slug = input.value.trim();
        if (!slug) { input.focus(); return; }
        const option = document.querySelector(`#article-slugs option[value="${CSS.escape(slug)}"]`);
        const label = area.value.substring(area.selectionStart, area.selectionEnd)
          || (option ? option.textContent : slug);
        insert(`[${label}](${slug})`, false);
        input.value = "";
      }
    });
  }

  // A problem's or a warning's "line N" link selects that line of the source (warnings
  // come and go with the live preview, so the click is caught on the document).
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-goto-line]");
    if (!link) return;
    event.preventDefault();
    const line = Number(link.dataset.gotoLine);
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const lineHeight = area.scrollHeight / Math.max(lines.length, 1);
    area.scrollTop = Math.max(0, (line - 3) * lineHeight);
  });
})();
