// DOM builders of the search page: results, the brand zone, facets, explanations. No innerHTML:
// every product text goes in as a text node.
"use strict";
(function () {
  const t = (...a) => window.I18N.t(...a);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("data-")) node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  function price(value) {
    return value === null || value === undefined ? "" : `¥${Number(value).toFixed(2)}`;
  }

  function stars(value) {
    return value === null || value === undefined ? "" : `★ ${Number(value).toFixed(1)}`;
  }

  function explainBlock(explain) {
    if (!explain) return null;
    const legs = Object.entries(explain).filter(([name]) => name !== "personal").map(([name, leg]) =>
      el("li", { class: "leg", "data-leg": name }, `${t("legs." + name)}: `,
         leg ? `#${leg.rank} (${leg.score})` : "—"));
    const personal = explain.personal;
    if (personal) {
      const parts = [`${t("boost")} ×${personal.keyword_factor}`, ...(personal.reasons || [])];
      if (personal.profile_cos !== undefined) parts.push(`cos ${personal.profile_cos}`);
      legs.push(el("li", { class: "leg personal" }, parts.join(" · ")));
    }
    return el("ul", { class: "explain" }, legs);
  }

  function product(item, position, onClick) {
    const link = el("a", { href: "#", class: "title", "data-id": item.id }, window.I18N.title(item));
    link.addEventListener("click", (event) => { event.preventDefault(); onClick(item, position, link); });
    const facts = [item.brand, price(item.price), stars(item.rating)].filter(Boolean);
    return el("li", { class: "result", "data-id": item.id, "data-position": position || "" },
              link, el("div", { class: "facts" }, facts.map((f) => el("span", {}, f))),
              item.category ? el("div", { class: "category" }, item.category.join(" › ")) : null,
              explainBlock(item.explain));
  }

  function brandZone(zone, onClick) {
    if (!zone) return null;
    return [el("h2", {}, `${t("brand_zone")} · ${zone.brand}`, el("small", {}, ` “${zone.keyword}”`)),
            el("ol", { class: "zone-products" }, zone.products.map((p) => product(p, null, onClick)))];
  }

  function facetValues(name, values, selected, onPick) {
    const flat = [];
    const walk = (nodes, depth) => nodes.forEach((n) => {
      flat.push([n, depth]);
      if (n.children && selected.category === n.value) walk(n.children, depth + 1);
    });
    walk(values, 0);
    return flat.map(([v, depth]) => {
      const value = name === "rating" ? v.min : name === "in_stock" ? String(v.value) : v.value;
      const label = name === "rating" ? `≥ ${v.value}` : name === "in_stock" ? (v.value ? "✓" : "✗") : v.value;
      const chosen = String(selected[name]) === String(value);
      const button = el("button", { type: "button", class: chosen ? "facet-value chosen" : "facet-value",
                                    "data-facet": name, "data-value": value }, `${label} (${v.count})`);
      button.addEventListener("click", () => onPick(name, chosen ? null : value));
      return el("li", { class: `depth-${depth}` }, button);
    });
  }

  function facets(answerFacets, selected, onPick) {
    const groups = Object.entries(answerFacets || {}).filter(([, values]) => values.length);
    return groups.map(([name, values]) => el("section", { class: "facet", "data-facet": name },
      el("h3", {}, t("facet." + name)), el("ul", {}, facetValues(name, values, selected, onPick))));
  }

  window.RENDER = { el, product, brandZone, facets };
})();
