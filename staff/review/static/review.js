// Conversation review list. Customer texts arrive redacted from the server and are put
// into the page with textContent (never innerHTML), so markup shows as text.
(function () {
  "use strict";
  const { $, el, toast, api } = window.Helpline;
  const form = $("filters");
  const cursors = []; // cursors of the pages shown so far (for "Newest")

  function filterParams() {
    const params = new URLSearchParams();
    new FormData(form).forEach((value, key) => { if (String(value).trim() !== "") params.set(key, String(value).trim()); });
    return params;
  }

  function fillForm(params) {
    Array.from(form.elements).forEach((field) => {
      if (field.name && params.has(field.name)) field.value = params.get(field.name);
    });
  }

  const when = (iso) => iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) : "";

  function row(c) {
    const tickets = c.tickets.map((t) => el("div", {},
      el("strong", {}, t.number), " ", t.reason.replace(/_/g, " "),
      t.assignee_name ? el("span", { class: "muted" }, ` · ${t.assignee_name}`) : null));
    return el("tr", { "data-id": c.id },
      el("td", {}, el("a", { href: `/review/${encodeURIComponent(c.id)}` }, when(c.started_at))),
      el("td", {}, c.channel),
      el("td", {}, el("span", { class: `badge o-${c.outcome}` }, c.outcome.replace(/_/g, " "))),
      el("td", { class: "text" }, c.first_customer_message),
      el("td", {}, c.intents.map((i) => el("span", { class: "badge" }, i))),
      el("td", {}, tickets),
      el("td", {}, c.csat ? `${c.csat.rating}/5` : ""),
      el("td", {}, c.tags.map((t) => el("span", { class: "badge" }, t))),
      el("td", {}, el("span", { class: `badge s-${c.review_status}` }, c.review_status.replace(/_/g, " "))),
      el("td", {}, c.message_count),
      el("td", {}, when(c.last_activity_at)),
    );
  }

  async function load(cursor) {
    const params = filterParams();
    history.replaceState(null, "", "/review?" + params.toString());
    ["csv", "json"].forEach((fmt) => {
      const exportParams = new URLSearchParams(params);
      exportParams.delete("limit");
      exportParams.set("format", fmt);
      $(`export-${fmt}`).href = "/api/review/export?" + exportParams.toString();
    });
    const kpi = params.get("kpi");
    $("drill").hidden = !kpi;
    if (kpi) $("drill").textContent = `Drill-down: ${kpi} (${params.get("part")}), ${params.get("from") || ""} to ${params.get("to") || ""}. Clear to leave it.`;
    if (cursor) params.set("cursor", cursor);
    $("status").textContent = "Loading…";
    try {
      const data = await api("GET", "/api/review/conversations?" + params.toString());
      $("rows").replaceChildren(...data.conversations.map(row));
      $("status").textContent = data.conversations.length ? `${data.conversations.length} conversations on this page` : "No conversation matches these filters.";
      $("next").hidden = !data.next_cursor;
      $("next").onclick = () => { cursors.push(cursor); load(data.next_cursor); };
      $("first").hidden = !cursor;
    } catch (error) {
      if (error.message !== "signed out") { $("status").textContent = ""; toast(`Could not load: ${error.message}`); }
    }
  }

  async function options() {
    try {
      const data = await api("GET", "/api/review/options");
      document.querySelectorAll("select[data-options]").forEach((select) => {
        const values = data[select.dataset.options] || [];
        values.forEach((value) => {
          const option = typeof value === "object" ? el("option", { value: String(value.id) }, value.name) : el("option", { value }, value.replace(/_/g, " "));
          select.appendChild(option);
        });
      });
      $("tag-list").replaceChildren(...data.tags.map((t) => el("option", { value: t })));
    } catch (error) { if (error.message !== "signed out") toast(`Filters: ${error.message}`); }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); cursors.length = 0; load(null); });
  $("reset").addEventListener("click", () => { form.reset(); form.querySelectorAll('input[type="hidden"]').forEach((f) => { f.value = ""; }); cursors.length = 0; load(null); });
  $("first").addEventListener("click", () => { cursors.length = 0; load(null); });

  options().then(() => { fillForm(new URLSearchParams(location.search)); load(null); });
})();
