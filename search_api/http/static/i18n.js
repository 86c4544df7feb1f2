// The search page's two languages: interface strings, and which product title to show.
"use strict";
(function () {
  const STRINGS = {
    zh: {
      placeholder: "搜索商品、品牌…", search: "搜索", persona: "购物者", anonymous: "匿名",
      paste: "粘贴浏览历史…", sort: "排序", explain: "解释排序", apply: "应用",
      paste_history: "粘贴浏览历史（JSON 数组：product_id, action, ts）", prev: "上一页", next: "下一页",
      results: (n, ms) => `约 ${n} 件商品（${ms} 毫秒）`, none: "没有找到相关商品", loading: "搜索中…",
      failed: "搜索失败：", relaxed: "部分匹配的结果", corrected: "您是不是要找：", degraded: "部分结果（一路检索失败）",
      personalised: "已按购物者偏好排序", brand_zone: "品牌专区", price: "价格", rating: "评分", sales: "销量",
      page: (p, n) => `第 ${p} / ${n} 页`, bad_history: "历史格式不对：", clear: "清除筛选",
      facet: { brand: "品牌", category: "类目", price: "价格", color: "颜色", rating: "评分", in_stock: "库存" },
      sorts: { relevance: "综合", price_asc: "价格从低到高", price_desc: "价格从高到低", sales: "销量", rating: "评分",
               newest: "最新" },
      legs: { keyword: "关键词", semantic: "语义", profile: "画像" }, boost: "个性化加权",
    },
    en: {
      placeholder: "Search products, brands…", search: "Search", persona: "Shopper", anonymous: "Anonymous",
      paste: "Paste a viewing history…", sort: "Sort", explain: "Explain ranking", apply: "Apply",
      paste_history: "Paste a viewing history (JSON array: product_id, action, ts)", prev: "Previous", next: "Next",
      results: (n, ms) => `About ${n} products (${ms} ms)`, none: "No matching products", loading: "Searching…",
      failed: "Search failed: ", relaxed: "Partial matches", corrected: "Did you mean: ",
      degraded: "Partial results (one retrieval leg failed)", personalised: "Ordered for this shopper",
      brand_zone: "Brand zone", price: "Price", rating: "Rating", sales: "Sales",
      page: (p, n) => `Page ${p} of ${n}`, bad_history: "Not a history: ", clear: "Clear filters",
      facet: { brand: "Brand", category: "Category", price: "Price", color: "Colour", rating: "Rating",
               in_stock: "Stock" },
      sorts: { relevance: "Relevance", price_asc: "Price: low to high", price_desc: "Price: high to low",
               sales: "Best selling", rating: "Rating", newest: "Newest" },
      legs: { keyword: "keyword", semantic: "semantic", profile: "profile" }, boost: "personal boost",
    },
  };
  const stored = window.localStorage.getItem("storesearch.lang");
  let lang = stored || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en");

  function t(key, ...args) {
    const value = key.split(".").reduce((node, part) => (node ? node[part] : undefined), STRINGS[lang]);
    if (value === undefined) return key;
    return typeof value === "function" ? value(...args) : value;
  }

  function apply() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
  }

  window.I18N = {
    t, apply,
    get lang() { return lang; },
    set lang(value) { lang = value; window.localStorage.setItem("storesearch.lang", value); apply(); },
    title(product) {  // the title in the page language, the other one when that is missing
      return (lang === "en" ? product.title_en || product.title : product.title || product.title_en) || product.id;
    },
  };
})();
