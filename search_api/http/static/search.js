// The search page: box with suggestions, results, brand zone, facets and sort (when the API offers
// them), paging, explain, persona switcher, and a POST /clicks for every result clicked.
"use strict";
(function () {
  const { el } = window.RENDER;
  const t = (...a) => window.I18N.t(...a);
  const $ = (id) => document.getElementById(id);
  const PAGE_SIZE = 10;
  const SUGGEST_DELAY_MS = 150;  // a keystroke pause: fast typists send one request per word, not per letter
  const FACET_PARAMS = { rating: "rating_min" };  // a facet's value filters this search parameter
  const state = { q: "", from: 0, sort: "relevance", filters: {}, history: null, personas: [], answer: null,
                  caps: { suggest: false, facets: false, sorts: [] }, seq: 0 };

  async function capabilities() {
    try {
      const doc = await (await fetch("/openapi.json")).json();
      const schemas = doc.components.schemas;
      const props = (schemas.SearchParams || {}).properties || {};
      const sortRef = props.sort && (props.sort.$ref || (props.sort.allOf || [{}])[0].$ref);
      const sorts = (props.sort && props.sort.enum) || (sortRef && schemas[sortRef.split("/").pop()].enum) || [];
      state.caps = { suggest: Boolean(doc.paths["/suggest"]), facets: "facets" in props, sorts };
    } catch (err) {
      console.warn("no contract, plain search only", err);
    }
    const select = $("sort");
    select.replaceChildren(...state.caps.sorts.map((s) => el("option", { value: s }, t("sorts." + s))));
    select.value = state.sort;
    $("sort-label").hidden = state.caps.sorts.length < 2;
  }

  async function loadPersonas() {
    const select = $("persona");
    try {
      state.personas = (await (await fetch("/personas")).json()).personas || [];
    } catch (err) {
      state.personas = [];
    }
    const label = (p) => [p.id, p.kind, p.preferred && (p.preferred.brand || p.preferred.leaf), p.query]
      .filter(Boolean).join(" · ");
    select.replaceChildren(el("option", { value: "", "data-i18n": "anonymous" }, t("anonymous")),
                           ...state.personas.map((p) => el("option", { value: p.id }, label(p))),
                           el("option", { value: "paste", "data-i18n": "paste" }, t("paste")));
  }

  function body() {
    const out = { q: state.q, size: PAGE_SIZE, from: state.from, explain: $("explain").checked };
    if (state.caps.sorts.length) out.sort = state.sort;
    if (state.caps.facets) out.facets = ["all"];
    for (const [name, value] of Object.entries(state.filters)) out[FACET_PARAMS[name] || name] = value;
    if (state.history) out.history = state.history;
    return out;
  }

  async function search() {
    if (!state.q.trim()) return;
    const seq = ++state.seq;
    $("status").textContent = t("loading");
    const url = new URL(window.location);
    url.searchParams.set("q", state.q);
    url.searchParams.set("from", state.from);
    window.history.replaceState(null, "", url);
    let response, answer;
    try {
      response = await fetch("/search", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify(body()) });
      answer = await response.json();
    } catch (err) {
      answer = { error: { message: String(err) } };
    }
    if (seq !== state.seq) return;  // a newer search was started meanwhile
    if (!response || !response.ok) {
      $("status").textContent = t("failed") + ((answer.error && answer.error.message) || response.status);
      return;
    }
    state.answer = answer;
    show(answer);
  }

  function statusLine(meta) {
    const parts = [meta.total ? t("results", meta.total, Math.round(meta.took_ms)) : t("none")];
    if (meta.relaxed) parts.push(t("relaxed"));
    if (meta.degraded) parts.push(t("degraded"));
    if (meta.personalised) parts.push(t("personalised"));
    const line = el("span", {}, parts.join(" · "));
    if (!meta.corrected) return [line];
    const fix = el("a", { href: "#", class: "corrected" }, meta.corrected);
    fix.addEventListener("click", (e) => { e.preventDefault(); go(meta.corrected); });
    return [line, " · ", t("corrected"), fix];
  }

  function show(answer) {
    const meta = answer.meta;
    document.body.dataset.queryId = meta.query_id || "";
    document.body.dataset.personalised = String(meta.personalised);
    $("status").replaceChildren(...statusLine(meta));
    const zone = window.RENDER.brandZone(answer.brand_zone, clicked);
    $("brand-zone").hidden = !zone;
    $("brand-zone").replaceChildren(...(zone || []));
    $("results").start = state.from + 1;
    $("results").replaceChildren(...answer.results.map((item, i) => window.RENDER.product(item, state.from + i + 1,
                                                                                           clicked)));
    const groups = window.RENDER.facets(answer.facets, state.filters, pickFacet);
    $("facets").hidden = !groups.length && !Object.keys(state.filters).length;
    const clear = el("button", { type: "button", class: "clear" }, t("clear"));
    clear.addEventListener("click", () => { state.filters = {}; state.from = 0; search(); });
    $("facets").replaceChildren(...(Object.keys(state.filters).length ? [clear] : []), ...groups);
    const pages = Math.max(1, Math.ceil(Math.min(meta.total, 1000) / PAGE_SIZE));
    const page = Math.floor(state.from / PAGE_SIZE) + 1;
    $("page-no").textContent = meta.total ? t("page", page, pages) : "";
    $("prev").disabled = page <= 1;
    $("next").disabled = page >= pages || answer.results.length < PAGE_SIZE;
  }

  function pickFacet(name, value) {
    if (value === null) delete state.filters[name];
    else state.filters[name] = value;
    state.from = 0;
    search();
  }

  function clicked(item, position, link) {
    link.classList.add("visited");
    const queryId = state.answer && state.answer.meta.query_id;
    if (!position || !queryId) return;  // brand-zone products have no organic position
    fetch("/clicks", { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" },
                       body: JSON.stringify({ query_id: queryId, product_id: item.id, position }) })
      .catch((err) => console.warn("click not recorded", err));
  }

  function go(q) {
    state.q = q;
    state.from = 0;
    state.filters = {};
    $("q").value = q;
    window.SUGGEST.close();
    search();
  }

  function choosePersona() {
    const id = $("persona").value;
    $("history-paste").hidden = id !== "paste";
    if (id === "paste") return;
    const persona = state.personas.find((p) => p.id === id);
    state.history = persona ? persona.history : null;
    if (persona && !state.q && persona.query) $("q").value = state.q = persona.query;
    state.from = 0;
    search();
  }

  function applyPastedHistory() {
    try {
      const history = JSON.parse($("history-text").value);
      if (!Array.isArray(history)) throw new Error("not an array");
      state.history = history;
      $("history-error").textContent = "";
      search();
    } catch (err) {
      $("history-error").textContent = t("bad_history") + err.message;
    }
  }

  function wire() {
    $("search-form").addEventListener("submit", (e) => { e.preventDefault(); go($("q").value.trim()); });
    $("sort").addEventListener("change", () => { state.sort = $("sort").value; state.from = 0; search(); });
    $("explain").addEventListener("change", search);
    $("persona").addEventListener("change", choosePersona);
    $("history-apply").addEventListener("click", applyPastedHistory);
    $("prev").addEventListener("click", () => { state.from = Math.max(0, state.from - PAGE_SIZE); search(); });
    $("next").addEventListener("click", () => { state.from += PAGE_SIZE; search(); });
    $("lang").addEventListener("click", () => {
      window.I18N.lang = window.I18N.lang === "zh" ? "en" : "zh";
      $("lang").textContent = window.I18N.lang === "zh" ? "EN" : "中文";
      capabilities().then(() => state.answer && show(state.answer));
    });
  }

  async function start() {
    window.I18N.apply();
    $("lang").textContent = window.I18N.lang === "zh" ? "EN" : "中文";
    wire();
    await Promise.all([capabilities(), loadPersonas()]);
    window.SUGGEST.install($("q"), $("suggestions"), () => state.caps.suggest, go, SUGGEST_DELAY_MS);
    const params = new URLSearchParams(window.location.search);
    if (params.get("q")) {
      state.from = Math.max(0, parseInt(params.get("from"), 10) || 0);
      state.q = params.get("q");
      $("q").value = state.q;
      search();
    }
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
