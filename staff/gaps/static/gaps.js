// FAQ gaps page. Every customer text is put into the page with textContent, never as HTML.
(function () {
  "use strict";
  const { $, el, request, describe } = window.Helpline;
  const REASONS = { fallback: "no answer", nlu_fallback: "not understood", thumbs_down: "thumbs-down", suggest: "suggestions only" };
  let data = null;      // last GET /api/gaps
  let current = null;   // cluster being edited
  let overlapStamp = null;  // source_stamp the overlaps list was loaded with

  function day(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

  async function load() {
    const params = new URLSearchParams();
    if ($("from").value) params.set("from", $("from").value);
    if ($("to").value) params.set("to", $("to").value);
    if ($("channel").value) params.set("channel", $("channel").value);
    params.set("suggest", $("suggest").checked ? "true" : "false");
    $("summary").textContent = "Loading… (the first load also loads the language model)";
    const { status, json } = await request("GET", "/api/gaps?" + params.toString());
    if (status !== 200) {
      $("summary").textContent = "Could not load the gaps: " + describe(json);
      return;
    }
    data = json;
    // Show the period actually used (the default is the last 30 days).
    if (!$("from").value) $("from").value = data.period.from.slice(0, 10);
    if (!$("to").value) $("to").value = data.period.to.slice(0, 10);
    render();
  }

  // FAQ phrasings that sit closer to another FAQ than to their own (FAQ text, not customers').
  async function loadOverlaps() {
    $("overlaps-summary").textContent = "Checking the FAQ for overlaps…";
    $("overlap-phrasings").hidden = true;  // rows of an older list would act on an old stamp
    $("overlap-pairs").replaceChildren();
    const { status, json } = await request("GET", "/api/gaps/overlaps?limit=50");
    if (status !== 200) {
      $("overlaps-summary").textContent = "Could not check the FAQ for overlaps: " + describe(json);
      return;
    }
    const within = json.within_margin ? `; ${json.within_margin} more win by less than ${json.margin}` : "";
    overlapStamp = json.source_stamp;
    $("overlaps-summary").textContent =
      `${json.closer_to_rival} of ${json.phrasings} phrasings sit closer to another FAQ than to their own${within}.`;
    $("overlap-pairs").replaceChildren(...json.pairs.slice(0, 10).map((p) =>
      el("li", {}, el("strong", {}, p.faqs[0]), " and ", el("strong", {}, p.faqs[1]),
        ` share ${p.phrasings} phrasing${p.phrasings === 1 ? "" : "s"}`)));
    const body = $("overlap-phrasings").querySelector("tbody");
    body.replaceChildren(...json.conflicts.map((c) => el("tr", { class: c.margin < 0 ? "closer" : "" },
      el("td", {}, c.faq_id), el("td", {}, c.phrasing), el("td", {}, c.rival_id),
      el("td", { class: "num" }, c.own_score.toFixed(2)), el("td", { class: "num" }, c.rival_score.toFixed(2)),
      el("td", { class: "act" },
        el("button", { type: "button", title: `Move to ${c.rival_id}`, "aria-label": `Move to ${c.rival_id}`,
          onclick: () => movePhrasing(c, c.rival_id) }, "Move there"),
        el("button", { type: "button", onclick: () => movePhrasing(c, null) }, "Remove")))));
    $("overlap-phrasings").hidden = json.conflicts.length === 0;
  }

  async function movePhrasing(conflict, to) {
    const what = to ? `Move “${conflict.phrasing}” from ${conflict.faq_id} to ${to}?` : `Remove “${conflict.phrasing}” from ${conflict.faq_id}?`;
    if (!window.confirm(what)) return;
    for (const b of $("overlap-phrasings").querySelectorAll("button")) b.disabled = true;
    const status = $("overlaps-status");
    const { status: code, json } = await request("POST", "/api/gaps/phrasings/move",
      { faq_id: conflict.faq_id, phrasing: conflict.phrasing, to_faq_id: to, source_stamp: overlapStamp });
    if (code === 202) {
      overlapStamp = json.source_stamp;
      if (data) data.source_stamp = json.source_stamp;
      status.textContent = to ? `Moved to ${json.faq_id} in ${json.file}. Rebuilding the index…` : `Removed from ${json.faq_id}. Rebuilding the index…`;
      poll(json.job.id, status, loadOverlaps);
      return;
    }
    for (const b of $("overlap-phrasings").querySelectorAll("button")) b.disabled = false;
    if (code === 422 && json && json.detail && json.detail.problems) {
      status.textContent = "Not changed: " + json.detail.problems.map((p) => `${p.file}${p.line ? ":" + p.line : ""}: ${p.reason}`).join("; ");
    } else if (code === 409) {
      status.textContent = "Someone changed the FAQ files since this list was loaded; it has been reloaded, try again.";
      loadOverlaps();
    } else {
      status.textContent = `Not changed (${code}): ${describe(json)}`;
    }
  }

  function render() {
    const t = data.totals;
    const reasons = Object.entries(t.by_reason).map(([r, n]) => `${n} ${REASONS[r] || r}`).join(", ");
    let text = `${t.questions} questions (${reasons || "none"}) in ${t.clusters} clusters`;
    if (t.clusters_shown < t.clusters) text += `, the ${t.clusters_shown} biggest shown`;
    if (t.not_clustered_distinct) text += `; ${t.not_clustered_questions} rarer questions not clustered (cap)`;
    if (data.index && data.index.error) text += `. FAQ index unavailable: ${data.index.error}`;
    if (data.source_problems && data.source_problems.length) text += `. The FAQ sources have problems: ${data.source_problems.join("; ")}`;
    $("summary").textContent = text + ".";
    const list = $("clusters");
    list.replaceChildren();
    data.clusters.forEach((cluster, index) => list.append(renderCluster(cluster, index)));
    const categories = $("categories");
    categories.replaceChildren(...data.categories.map((c) => el("option", { value: c })));
  }

  function renderCluster(cluster, index) {
    const reasons = Object.entries(cluster.reasons).map(([r, n]) => el("span", { class: "reason-" + r }, `${n} ${REASONS[r] || r}`));
    const channels = Object.entries(cluster.channels).map(([c, n]) => `${c} ${n}`).join(", ");
    const near = cluster.nearest_faq;
    const proposal = cluster.proposal === "phrasing" && near ? `add as phrasing of ${near.id}` : "new FAQ";
    return el("li", { class: "cluster", "data-cluster": cluster.id },
      el("h3", {}, cluster.representative),
      el("div", { class: "meta" },
        el("span", { class: "volume" }, `${cluster.questions} asked (volume ${cluster.volume})`),
        ...reasons,
        el("span", {}, `${cluster.distinct} distinct`),
        el("span", {}, `first ${day(cluster.first_seen)}`),
        el("span", {}, `last ${day(cluster.last_seen)}`),
        el("span", {}, channels)),
      el("p", { class: "nearest" },
        near ? `Nearest FAQ: ${near.id} “${near.question}” (score ${near.score.toFixed(2)})` : "No nearest FAQ (index unavailable)",
        el("span", { class: "proposal" }, "proposed: " + proposal)),
      el("ul", { class: "samples" }, ...cluster.samples.slice(0, 5).map((s) =>
        el("li", {}, s.text, el("span", { class: "count" }, `×${s.count}`)))),
      el("button", { type: "button", class: "primary", onclick: () => openEditor(index) }, "Turn into FAQ content…"));
  }

  function openEditor(index) {
    current = data.clusters[index];
    const near = current.nearest_faq;
    const mode = current.proposal === "phrasing" && near ? "phrasing" : "new";
    for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === mode;
    $("editor-samples").replaceChildren(...current.samples.map((s, i) =>
      el("li", {}, el("label", {}, el("input", Object.assign({ type: "checkbox", value: String(i) }, i < 10 ? { checked: "" } : {})),
        s.text, el("span", { class: "count" }, `×${s.count}`)))));
    const select = $("faq-select");
    select.replaceChildren(...data.faqs.map((f) => el("option", { value: f.id }, `${f.id} — ${f.question}`)));
    if (near) select.value = near.id;
    $("new-id").value = "";
    $("new-question").value = current.representative;
    $("new-category").value = near ? (data.faqs.find((f) => f.id === near.id) || {}).category || "" : "";
    $("new-answer").value = "";
    $("editor-errors").replaceChildren();
    $("editor-status").textContent = "";
    $("editor-save").disabled = false;
    syncMode();
    $("editor").showModal();
  }

  function syncMode() {
    const mode = document.querySelector('input[name="mode"]:checked').value;
    $("existing-fields").hidden = mode !== "phrasing";
    $("new-fields").hidden = mode !== "new";
  }

  function chosenSamples() {
    return [...$("editor-samples").querySelectorAll("input:checked")].map((box) => current.samples[Number(box.value)].text);
  }

  async function save() {
    const mode = document.querySelector('input[name="mode"]:checked').value;
    const phrasings = chosenSamples();
    let path, body;
    if (mode === "phrasing") {
      path = "/api/gaps/phrasings";
      body = { faq_id: $("faq-select").value, phrasings, source_stamp: data.source_stamp, cluster_id: current.id };
    } else {
      const question = $("new-question").value.trim();
      path = "/api/gaps/faq";
      body = {
        id: $("new-id").value.trim(), question, answer: $("new-answer").value,
        phrasings: phrasings.filter((p) => p.trim().toLowerCase() !== question.toLowerCase()),
        category: $("new-category").value.trim(), source_stamp: data.source_stamp, cluster_id: current.id,
      };
    }
    $("editor-save").disabled = true;
    $("editor-errors").replaceChildren();
    const { status, json } = await request("POST", path, body);
    if (status === 202) {
      data.source_stamp = json.source_stamp;
      overlapStamp = json.source_stamp;
      const skipped = json.skipped_phrasings.length ? ` (${json.skipped_phrasings.length} already there)` : "";
      $("editor-status").textContent = `Saved ${json.faq_id} in ${json.file}${skipped}. Rebuilding the index…`;
      poll(json.job.id);
      return;
    }
    $("editor-save").disabled = false;
    if (status === 422 && json && json.detail && json.detail.problems) {
      $("editor-errors").replaceChildren(...json.detail.problems.map((p) =>
        el("li", {}, `${p.file}${p.line ? ":" + p.line : ""}: ${p.reason}`)));
    } else if (status === 409) {
      $("editor-errors").replaceChildren(el("li", {}, "Someone changed the FAQ files since this page was loaded. Close this, reload the page and try again."));
    } else {
      $("editor-errors").replaceChildren(el("li", {}, `Not saved (${status}): ${describe(json)}`));
    }
  }

  async function poll(jobId, status = $("editor-status"), onDone = () => {}) {
    for (;;) {
      const { status: code, json } = await request("GET", "/api/gaps/jobs/" + encodeURIComponent(jobId));
      if (code !== 200) { status.textContent = "Rebuild status unavailable: " + describe(json); return; }
      if (json.state === "done") {
        status.textContent = `Index rebuilt (version ${json.index_version}). The bot uses it within seconds.`;
        onDone();
        return;
      }
      if (json.state === "failed") { status.textContent = "The index rebuild failed: " + json.error; return; }
      status.textContent = `Rebuilding the index… (${json.state})`;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }

  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", syncMode);
  $("editor-save").addEventListener("click", save);
  $("editor-close").addEventListener("click", () => { $("editor").close(); load(); loadOverlaps(); });
  load();
  loadOverlaps();
})();
