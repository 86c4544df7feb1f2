// The dashboard's data: GET /analytics and GET /audits with the session cookie (no key in the page).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const MAX_ROWS = 15;

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (response.status === 401) {  // signed out elsewhere, or the key was revoked: back to the form
      window.location.assign("/dashboard");
      throw new Error("signed out");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
    return body;
  }

  function message(container, text) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = text;
    container.replaceChildren(p);
  }

  function counts(list) {
    return (list || []).slice(0, MAX_ROWS).map((r) => ({ label: r.query, value: r.count }));
  }

  async function analytics() {
    const days = $("days").value;
    const charts = ["chart-top", "chart-zero", "chart-ctr", "chart-days"].map($);
    let data;
    try {
      data = await getJson(`/analytics?days=${encodeURIComponent(days)}`);
    } catch (err) {
      charts.forEach((c) => message(c, `Analytics unavailable: ${err.message}`));
      $("summary").textContent = "";
      return;
    }
    const pct = (x) => `${(100 * (x || 0)).toFixed(1)}%`;
    $("summary").textContent = `${data.searches} searches · MRR ${(data.mrr || 0).toFixed(3)} · ` +
      `personalised ${pct(data.share_personalised)}`;
    const bars = window.CHARTS.bars;
    bars(charts[0], counts(data.top_queries), { empty: "No searches in this window" });
    bars(charts[1], counts(data.zero_result), { empty: "No zero-result queries" });
    bars(charts[2], (data.ctr_by_position || []).slice(0, MAX_ROWS).map((r) => ({
      label: `#${r.position}`, value: r.ctr, text: `${pct(r.ctr)} (${r.clicks}/${r.impressions})` })),
    { empty: "No impressions yet" });
    bars(charts[3], (data.searches_per_day || []).map((r) => ({ label: r.day, value: r.count })),
         { empty: "No searches in this window" });
  }

  function cell(text, link) {
    const td = document.createElement("td");
    if (link) {
      const a = document.createElement("a");
      a.href = link;
      a.textContent = text;
      td.append(a);
    } else {
      td.textContent = text ?? "";
    }
    return td;
  }

  async function audits() {
    const box = $("audits");
    let data;
    try {
      data = await getJson("/audits");
    } catch (err) {
      message(box, `Audit runs unavailable: ${err.message}`);
      return;
    }
    if (!data.audits.length) { message(box, "No audit runs yet"); return; }
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    ["run", "status", "cells", "created", "report"].forEach((h) => head.append(Object.assign(
      document.createElement("th"), { textContent: h })));
    const body = table.createTBody();
    for (const run of data.audits) {
      const row = body.insertRow();
      const id = encodeURIComponent(run.id);
      row.append(cell(run.id, `/audits/${id}`), cell(run.status), cell(`${run.done ?? ""}/${run.cell_count ?? ""}`),
                 cell(run.created || ""), cell("report", `/audits/${id}/report`));
    }
    box.replaceChildren(table);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("days").addEventListener("change", analytics);
    Promise.all([analytics(), audits()]).finally(() => { document.body.dataset.ready = "true"; });
  });
})();
