// KPI dashboard and "My stats": fetches /api/dashboard(/me) and draws cards, inline-SVG
// line charts (trends) and bar charts (breakdowns). Every number links to its drill-down
// in /review (kpi + part + the same period and filters).
"use strict";
(() => {
  const page = document.body.dataset.page;
  const { $, el, request, describe } = window.Helpline;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f5fbf", "#d97706", "#1e7d32", "#8e24aa", "#b3261e", "#00838f"];
  let state = { data: null, filters: {} };

  const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
  const num = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  const secs = (s) => {
    if (s === null || s === undefined) return "–";
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${(s / 60).toFixed(1)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  };
  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  // Drill-down link: the KPI's conversations in /review for this period and filters.
  function drill(kpi, part, extra = {}, period = null) {
    if (page === "me") return null;  // /review is for supervisors: an agent's numbers are plain text
    const p = state.data.period;
    const params = new URLSearchParams({ kpi, part, from: period ? period.from : p.from, to: period ? period.to : p.to });
    const f = { ...state.filters, ...extra };
    for (const key of ["channel", "category", "agent"]) if (f[key]) params.set(key, f[key]);
    return `/review?${params}`;
  }
  const link = (text, href) => el("a", { href }, text);
  const good = (meets) => (meets === true ? "ok" : meets === false ? "bad" : "");
  // A bucket's own period in days (its end is exclusive; the review's "to" is inclusive).
  function bucketDays(point) {
    const last = new Date(new Date(point.end).getTime() - 86400000);
    return { from: point.start.slice(0, 10), to: last.toISOString().slice(0, 10) };
  }

  // Cards ---------------------------------------------------------------------------
  function rateCard(title, kpi, rate, { targetText = null, extra = {}, pendingCount = null } = {}) {
    const card = el("div", { class: `card ${good(rate.meets_target)}`, "data-kpi": kpi });
    card.append(el("h5", {}, title));
    card.append(el("a", { class: "value", href: drill(kpi, "numerator", extra) }, pct(rate.value)));
    const detail = el("div", { class: "detail" },
      link(String(rate.numerator), drill(kpi, "numerator", extra)), " of ",
      link(String(rate.denominator), drill(kpi, "population", extra)));
    if (pendingCount !== null) detail.append(" · ", link(`${pendingCount} pending`, drill(kpi, "pending", extra)));
    card.append(detail);
    if (targetText) card.append(el("div", { class: "detail" }, targetText));
    return card;
  }
  function durationCard(title, kpi, d, targetText = null) {
    const card = el("div", { class: `card ${good(d.meets_target)}`, "data-kpi": kpi });
    card.append(el("h5", {}, title));
    card.append(el("a", { class: "value", href: drill(kpi, "numerator") }, `p90 ${secs(d.p90_seconds)}`));
    card.append(el("div", { class: "detail" }, `median ${secs(d.median_seconds)} · `,
      link(`${d.count} done`, drill(kpi, "numerator")), " · ", link(`${d.pending} pending`, drill(kpi, "pending"))));
    if (targetText) card.append(el("div", { class: "detail" }, targetText));
    return card;
  }
  function csatCard(c) {
    const card = el("div", { class: `card ${good(c.meets_target)}`, "data-kpi": "csat" });
    card.append(el("h5", {}, "CSAT"));
    card.append(el("a", { class: "value", href: drill("csat", "numerator") }, c.average === null ? "–" : `${num(c.average)} / 5`));
    card.append(el("div", { class: "detail" }, "response ", pct(c.response_rate.value), ": ",
      link(String(c.response_rate.numerator), drill("csat", "numerator")), " rated of ",
      link(String(c.response_rate.denominator), drill("csat", "population")), " asked"));
    card.append(el("div", { class: "detail" }, `would recommend ${pct(c.would_recommend.value)} · target ≥ ${num(c.target, 1)}`));
    return card;
  }
  function cards(t) {
    const box = $("cards");
    box.replaceChildren();
    const sla = (r) => `target ≥ ${pct(r.target)}`;
    if (page === "dashboard") {
      box.append(el("div", { class: "card", "data-kpi": "conversations" }, el("h5", {}, "Conversations"),
        el("a", { class: "value", href: drill("containment", "population") }, String(t.conversations)),
        el("div", { class: "detail" }, `${t.tickets} tickets`)));
      box.append(rateCard("Containment", "containment", t.containment, { targetText: `target ≥ ${pct(t.containment.target)}` }));
      box.append(rateCard("Escalation rate", "escalation_rate", t.escalation_rate));
      box.append(rateCard("FAQ answer rate", "faq_answer_rate", t.faq_answer_rate));
      box.append(rateCard("FAQ helpfulness", "faq_helpfulness", t.faq_helpfulness));
      box.append(rateCard("Fallback rate", "fallback_rate", t.fallback_rate));
    } else {
      box.append(el("div", { class: "card", "data-kpi": "tickets" }, el("h5", {}, "Tickets handled"),
        el("a", { class: "value", href: drill("resolution_sla_compliance", "population") }, String(t.tickets))));
    }
    box.append(durationCard("First human response", "first_human_response_time", t.first_human_response_time,
      `target p90 ≤ ${secs(t.first_human_response_time.target_seconds)}`));
    box.append(rateCard("Resolution SLA", "resolution_sla_compliance", t.resolution_sla_compliance,
      { targetText: sla(t.resolution_sla_compliance), pendingCount: t.resolution_sla_compliance.pending }));
    box.append(rateCard("First-response SLA", "first_response_sla_compliance", t.first_response_sla_compliance,
      { targetText: sla(t.first_response_sla_compliance), pendingCount: t.first_response_sla_compliance.pending }));
    box.append(rateCard("First-contact resolution", "first_contact_resolution", t.first_contact_resolution));
    box.append(csatCard(t.csat));
    box.append(durationCard("Queue wait", "queue_wait", t.queue_wait));
    if (page === "dashboard") {
      box.append(rateCard("Abandonment", "abandonment_rate", t.abandonment_rate,
        { targetText: `target ≤ ${pct(t.abandonment_rate.target)}` }));
    }
  }

  // Charts --------------------------------------------------------------------------
  // Axis ticks from 0 in steps of 1, 2 or 5 x 10^k, at most ``most`` + 1 of them, up to
  // ``limit`` or just past it. ``integer``: counts, so the step is at least 1 and no two
  // ticks read the same after rounding (the axis used to read 0, 1, 1, 2, 2).
  function niceTicks(limit, { integer = false, most = 5 } = {}) {
    const rough = Math.max(limit, integer ? 1 : 1e-9) / most;
    const power = 10 ** Math.floor(Math.log10(rough));
    let step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= rough);
    if (integer) step = Math.max(1, Math.ceil(step));
    const ticks = [];
    for (let k = 0; ticks.length < 2 || ticks[ticks.length - 1] < limit - 1e-9; k++) ticks.push(k * step);
    return ticks;
  }

  // Each series has its own colour and its own line and marker style, drawn in reverse so
  // the first series (e.g. conversations) is on top: where two coincide (every
  // conversation escalated), the wider dashed line of the second still shows around it.
  const STYLES = [
    { width: 2, dash: null, marker: "circle" },
    { width: 3.5, dash: "7 4", marker: "square" },
    { width: 2, dash: "2 3", marker: "diamond" },
  ];
  const styleOf = (n) => ({ color: COLORS[n % COLORS.length], ...STYLES[n % STYLES.length] });

  function marker(kind, cx, cy, color) {
    if (kind === "square") return svg("rect", { x: cx - 4, y: cy - 4, width: 8, height: 8, fill: "#fff", stroke: color, "stroke-width": 2 });
    if (kind === "diamond") return svg("path", { d: `M${cx},${cy - 5} L${cx + 5},${cy} L${cx},${cy + 5} L${cx - 5},${cy} Z`, fill: color });
    return svg("circle", { cx, cy, r: 3, fill: color });
  }

  // A legend entry: a small line in the series' own colour and dash, with its marker.
  function swatch(style) {
    const icon = svg("svg", { width: 26, height: 10, viewBox: "0 0 26 10", "aria-hidden": "true", class: "swatch" });
    const line = { x1: 1, x2: 25, y1: 5, y2: 5, stroke: style.color, "stroke-width": Math.min(style.width, 3) };
    if (style.dash) line["stroke-dasharray"] = style.dash;
    icon.append(svg("line", line));
    if (style.marker) icon.append(marker(style.marker, 13, 5, style.color));
    return icon;
  }

  // series: [{name, values: [number|null], hrefs: [url]}]; target: a horizontal line.
  // integer: the values are counts (integer axis ticks).
  function lineChart(title, labels, series, { format = pct, max = null, target = null, integer = false } = {}) {
    const W = 460, H = 190, L = 46, R = 10, T = 10, B = 26;
    const all = series.flatMap((s) => s.values).filter((v) => v !== null);
    if (target !== null) all.push(target);
    const ticks = niceTicks(max !== null ? max : Math.max(0, ...all), { integer });
    const top = max !== null ? max : ticks[ticks.length - 1];
    const x = (i) => L + (labels.length < 2 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "line-chart" });
    ticks.filter((v) => v <= top + 1e-9).forEach((v) => {
      chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e6e9ef" }));
      const t = svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#5b6472", class: "tick" });
      t.textContent = format(v);
      chart.append(t);
    });
    const step = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((label, i) => {
      if (i % step) return;
      const t = svg("text", { x: x(i), y: H - 8, "text-anchor": "middle", "font-size": 10, fill: "#5b6472" });
      t.textContent = label.slice(5);
      chart.append(t);
    });
    if (target !== null) {
      chart.append(svg("line", { x1: L, x2: W - R, y1: y(target), y2: y(target), stroke: "#b3261e", "stroke-dasharray": "4 3", class: "target" }));
    }
    series.map((s, n) => [s, n]).reverse().forEach(([s, n]) => {
      const style = styleOf(n);
      const group = svg("g", { class: "series-group", "data-series": s.name });
      let d = "";
      let pen = "M";
      s.values.forEach((v, i) => {
        if (v === null) { pen = "M"; return; }
        d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
        pen = "L";
      });
      const path = { d, fill: "none", stroke: style.color, "stroke-width": style.width, class: "series" };
      if (style.dash) path["stroke-dasharray"] = style.dash;
      if (d) group.append(svg("path", path));
      s.values.forEach((v, i) => {
        if (v === null) return;
        const dot = marker(style.marker, x(i), y(v), style.color);
        const tip = svg("title");
        tip.textContent = `${labels[i]} ${s.name}: ${format(v)}`;
        dot.append(tip);
        if (s.hrefs && s.hrefs[i]) {
          const a = svg("a", { href: s.hrefs[i] });
          a.append(dot);
          group.append(a);
        } else group.append(dot);
      });
      chart.append(group);
    });
    const legend = el("div", { class: "legend" });
    series.forEach((s, n) => legend.append(el("span", {}, swatch(styleOf(n)), s.name)));
    if (target !== null) legend.append(el("span", {}, swatch({ color: "#b3261e", width: 2, dash: "4 3", marker: null }), `target ${format(target)}`));
    return el("figure", { class: "chart" }, el("figcaption", {}, title), chart, legend);
  }

  // items: [{label, value, text, href}]
  function barChart(title, items, { format = pct } = {}) {
    const row = 22, L = 130, W = 460, R = 70;
    const H = Math.max(1, items.length) * row + 6;
    const top = Math.max(1e-9, ...items.map((i) => i.value || 0));
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "bar-chart" });
    items.forEach((item, n) => {
      const yTop = 3 + n * row;
      const label = svg("text", { x: L - 6, y: yTop + 14, "text-anchor": "end", "font-size": 11, fill: "#1b1f24" });
      label.textContent = item.label;
      chart.append(label);
      const width = ((item.value || 0) / top) * (W - L - R);
      const bar = svg("rect", { x: L, y: yTop + 3, width: Math.max(width, 1), height: row - 8, fill: COLORS[0], rx: 2 });
      const valueText = svg("text", { x: L + width + 4, y: yTop + 14, "font-size": 11, fill: "#1b1f24" });
      valueText.textContent = item.text !== undefined ? item.text : format(item.value);
      const a = svg("a", { href: item.href });
      a.append(bar, valueText);
      chart.append(a);
    });
    if (!items.length) {
      const t = svg("text", { x: 10, y: 16, "font-size": 11, fill: "#5b6472" });
      t.textContent = "nothing in this period";
      chart.append(t);
    }
    return el("figure", { class: "chart" }, el("figcaption", {}, title), chart);
  }

  function trends(data) {
    const box = $("trends");
    box.replaceChildren();
    const points = data.trend;
    const labels = points.map((p) => p.start.slice(0, 10));
    const series = (name, pick, kpi, part = "numerator") => ({
      name, values: points.map(pick), hrefs: points.map((p) => drill(kpi, part, {}, bucketDays(p))),
    });
    const t = data.totals;
    if (page === "dashboard") {
      box.append(lineChart("Conversations per " + data.bucket, labels,
        [series("conversations", (p) => p.conversations, "containment", "population"),
         series("tickets", (p) => p.tickets, "resolution_sla_compliance", "population")],
        { format: (v) => String(Math.round(v)), integer: true }));
      box.append(lineChart("Containment and escalation", labels,
        [series("containment", (p) => p.containment.value, "containment"),
         series("escalation", (p) => p.escalation_rate.value, "escalation_rate")], { max: 1, target: t.containment.target }));
      box.append(lineChart("FAQ answers and fallbacks", labels,
        [series("answered", (p) => p.faq_answer_rate.value, "faq_answer_rate"),
         series("fallback", (p) => p.fallback_rate.value, "fallback_rate"),
         series("helpful", (p) => p.faq_helpfulness.value, "faq_helpfulness")], { max: 1 }));
    }
    box.append(lineChart("SLA compliance", labels,
      [series("resolution", (p) => p.resolution_sla_compliance.value, "resolution_sla_compliance"),
       series("first response", (p) => p.first_response_sla_compliance.value, "first_response_sla_compliance")],
      { max: 1, target: t.resolution_sla_compliance.target }));
    box.append(lineChart("First human response (p90)", labels,
      [series("p90", (p) => p.first_human_response_time.p90_seconds, "first_human_response_time"),
       series("median", (p) => p.first_human_response_time.median_seconds, "first_human_response_time")],
      { format: secs, target: t.first_human_response_time.target_seconds }));
    box.append(lineChart("CSAT average", labels,
      [series("CSAT", (p) => p.csat.average, "csat")], { format: (v) => num(v, 1), max: 5, target: t.csat.target }));
    if (page === "dashboard") {
      box.append(lineChart("Abandonment", labels,
        [series("abandonment", (p) => p.abandonment_rate.value, "abandonment_rate")], { target: t.abandonment_rate.target }));
    }
  }

  function breakdowns(data) {
    const t = data.totals;
    const bars = $("bars");
    bars.replaceChildren();
    const reasons = Object.entries(t.escalation_rate_by_reason).map(([reason, r]) => ({
      label: reason.replaceAll("_", " "), value: r.value, text: `${pct(r.value)} (${r.numerator})`,
      href: drill(`escalation_rate_by_reason:${reason}`, "numerator"),
    }));
    bars.append(barChart("Escalation rate by reason", reasons));
    const complaints = Object.entries(t.complaint_rate_by_category).map(([category, r]) => ({
      label: category, value: r.value, text: `${pct(r.value)} (${r.numerator})`,
      href: drill(`complaint_rate_by_category:${category}`, "numerator"),
    }));
    bars.append(barChart("Complaint rate by category", complaints));
    bars.append(barChart("Containment per channel", Object.entries(data.by_channel).map(([channel, v]) => ({
      label: channel, value: v.containment.value, href: drill("containment", "numerator", { channel }),
    }))));
    bars.append(barChart("CSAT per agent", Object.entries(data.by_agent).map(([agent, v]) => ({
      label: v.name, value: v.csat.average, text: v.csat.average === null ? "–" : num(v.csat.average),
      href: drill("csat", "numerator", { agent }),
    })), { format: (v) => num(v) }));
    bars.append(barChart("First response p90 per agent", Object.entries(data.by_agent).map(([agent, v]) => ({
      label: v.name, value: v.first_human_response_time.p90_seconds, text: secs(v.first_human_response_time.p90_seconds),
      href: drill("first_human_response_time", "numerator", { agent }),
    })), { format: secs }));
    table("by-channel", "Channel", data.by_channel, (key) => ({ channel: key }), true);
    table("by-category", "Category", data.by_category, (key) => ({ category: key }), false);
    table("by-agent", "Agent", data.by_agent, (key) => ({ agent: key }), false);
  }

  function table(id, heading, rows, filterOf, full) {
    const cols = [
      ...(full ? [["Conversations", (v) => [String(v.conversations), "containment", "population"]],
        ["Containment", (v) => [pct(v.containment.value), "containment", "numerator", v.containment.meets_target]],
        ["FAQ answered", (v) => [pct(v.faq_answer_rate.value), "faq_answer_rate", "numerator"]],
        ["Fallback", (v) => [pct(v.fallback_rate.value), "fallback_rate", "numerator"]]] : []),
      ...(id === "by-category" ? [["Complaint rate", (v, key) => [pct(v.complaint_rate.value), `complaint_rate_by_category:${key}`, "numerator"]]] : []),
      ["Tickets", (v) => [String(v.tickets), "resolution_sla_compliance", "population"]],
      ["First resp. p90", (v) => [secs(v.first_human_response_time.p90_seconds), "first_human_response_time", "numerator", v.first_human_response_time.meets_target]],
      ["Resolution SLA", (v) => [pct(v.resolution_sla_compliance.value), "resolution_sla_compliance", "numerator", v.resolution_sla_compliance.meets_target]],
      ["First-resp. SLA", (v) => [pct(v.first_response_sla_compliance.value), "first_response_sla_compliance", "numerator", v.first_response_sla_compliance.meets_target]],
      ["FCR", (v) => [pct(v.first_contact_resolution.value), "first_contact_resolution", "numerator"]],
      ["CSAT", (v) => [v.csat.average === null ? "–" : num(v.csat.average), "csat", "numerator", v.csat.meets_target]],
      ["Abandoned", (v) => [pct(v.abandonment_rate.value), "abandonment_rate", "numerator", v.abandonment_rate.meets_target]],
    ];
    const head = el("tr", {}, el("th", {}, heading), ...cols.map(([name]) => el("th", {}, name)));
    const body = Object.entries(rows).map(([key, v]) => el("tr", {}, el("td", {}, v.name || key),
      ...cols.map(([, pick]) => {
        const [text, kpi, part, meets] = pick(v, key);
        return el("td", { class: good(meets) }, link(text, drill(kpi, part, filterOf(key))));
      })));
    $(id).replaceChildren(el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, ...body)));
  }

  function alerts(data) {
    const box = $("alerts");
    box.replaceChildren();
    for (const spike of data.spikes || []) {
      const day = { from: spike.latest_from.slice(0, 10), to: new Date(new Date(spike.latest_to).getTime() - 86400000).toISOString().slice(0, 10) };
      box.append(el("div", { class: "alert", role: "alert", "data-spike": spike.category },
        `Complaint spike: ${spike.category} at ${pct(spike.latest.value)} of conversations in the last day `,
        `(${spike.latest.numerator} complaints) against ${pct(spike.baseline_rate)} before. `,
        link("See the conversations", drill(`complaint_rate_by_category:${spike.category}`, "numerator", {}, day))));
    }
  }

  function fillOptions(data) {
    if (page !== "dashboard") return;
    const category = document.querySelector("select[name=category]");
    const agent = document.querySelector("select[name=agent]");
    const categories = new Set([...Object.keys(data.by_category), ...Object.keys(data.totals.complaint_rate_by_category)]);
    if (state.filters.category) categories.add(state.filters.category);
    category.replaceChildren(el("option", { value: "" }, "All"), ...[...categories].sort().map((c) => el("option", { value: c }, c)));
    agent.replaceChildren(el("option", { value: "" }, "All"), ...data.agents.map((a) => el("option", { value: String(a.id) }, a.name)));
    category.value = state.filters.category || "";
    agent.value = state.filters.agent || "";
  }

  async function load() {
    const params = new URLSearchParams(location.search);
    state.filters = Object.fromEntries([...params].filter(([k, v]) => v && ["channel", "category", "agent"].includes(k)));
    const form = $("filters");
    for (const [k, v] of params) if (form.elements[k]) form.elements[k].value = v;
    const url = page === "me" ? "/api/dashboard/me" : "/api/dashboard";
    const started = performance.now();
    const { status, json: body } = await request("GET", `${url}?${params}`);
    if (status !== 200) {
      $("status").textContent = `Could not load: ${describe(body, status)}`;
      return;
    }
    state.data = body;
    form.elements.from.value = body.period.from;
    form.elements.to.value = body.period.to;
    $("period").textContent = `${body.period.from} to ${body.period.to}`;
    $("bucket").textContent = `per ${body.bucket}`;
    fillOptions(body);
    cards(body.totals);
    trends(body);
    if (page === "dashboard") { alerts(body); breakdowns(body); }
    $("status").textContent = `Loaded in ${Math.round(performance.now() - started)} ms.`;
    document.body.dataset.loaded = "true";
  }

  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(event.target)) if (v) params.set(k, v);
    history.replaceState(null, "", `?${params}`);
    load();
  });
  load();
})();
