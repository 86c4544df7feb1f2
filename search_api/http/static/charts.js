// Horizontal bar charts as inline SVG (no library): one row per item, the bar's length its value.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 480;
  const ROW = 22;
  const LABEL = 150;  // room for a query or a day on the left
  const VALUE = 90;   // room for the number on the right

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clip(text, max) {
    const s = String(text);
    return s.length > max ? s.slice(0, max - 1) + "…" : s;
  }

  // rows: [{label, value, text?}]; an empty list renders a sentence instead of a chart.
  function bars(container, rows, { empty = "No data" } = {}) {
    if (!rows.length) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = empty;
      container.replaceChildren(p);
      return;
    }
    const max = Math.max(...rows.map((r) => r.value), 1e-9);
    const height = rows.length * ROW + 4;
    const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img" });
    rows.forEach((row, i) => {
      const y = i * ROW + 2;
      const length = Math.max(1, (WIDTH - LABEL - VALUE) * (row.value / max));
      const group = svg("g", { "data-label": row.label, "data-value": row.value });
      group.append(svg("title", {}, `${row.label}: ${row.text ?? row.value}`),
                   svg("text", { x: LABEL - 6, y: y + 15, "text-anchor": "end" }, clip(row.label, 22)),
                   svg("rect", { class: "bar-rect", x: LABEL, y: y + 3, width: length, height: ROW - 6, rx: 2 }),
                   svg("text", { x: LABEL + length + 4, y: y + 15 }, row.text ?? row.value));
      chart.append(group);
    });
    chart.append(svg("line", { class: "axis", x1: LABEL, x2: LABEL, y1: 0, y2: height }));
    container.replaceChildren(chart);
  }

  window.CHARTS = { bars };
})();
