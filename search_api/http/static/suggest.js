// Suggestions as you type (GET /suggest, when the API has it), debounced; arrow keys and Enter pick.
"use strict";
(function () {
  const { el } = window.RENDER;
  const MAX_SUGGESTIONS = 8;
  let list = null;
  let active = -1;
  let timer = null;
  let seq = 0;  // a suggestion answer older than the last keystroke or close is dropped

  function close() {
    clearTimeout(timer);
    seq++;
    if (!list) return;
    list.hidden = true;
    list.replaceChildren();
    active = -1;
  }

  function highlight(index) {
    const items = list.querySelectorAll("li");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
  }

  function install(input, target, enabled, onPick, delayMs) {
    list = target;
    async function fetchSuggestions() {
      const prefix = input.value.trim();
      const mine = ++seq;
      if (!prefix || !enabled()) { list.hidden = true; return; }
      let answer;
      try {
        const response = await fetch(`/suggest?${new URLSearchParams({ q: prefix, size: MAX_SUGGESTIONS })}`);
        if (!response.ok) { list.hidden = true; return; }
        answer = await response.json();
      } catch (err) {
        list.hidden = true;
        return;
      }
      if (mine !== seq || input.value.trim() !== prefix) return;  // the shopper typed on meanwhile
      const items = (answer.suggestions || []).map((s) => {
        const item = el("li", { role: "option", class: `suggestion kind-${s.kind}`, "data-text": s.text }, s.text);
        item.addEventListener("mousedown", (e) => { e.preventDefault(); onPick(s.text); });
        return item;
      });
      list.replaceChildren(...items);
      list.hidden = !items.length;
      active = -1;
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(fetchSuggestions, delayMs); });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", (e) => {
      if (list.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        highlight(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        onPick(list.querySelectorAll("li")[active].dataset.text);
      } else if (e.key === "Escape") {
        close();
      }
    });
  }

  window.SUGGEST = { install, close };
})();
