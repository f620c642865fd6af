// One conversation for review: messages with their annotations inline, ticket events,
// CSAT, tags, review status and comments. All texts are set with textContent.
(function () {
  "use strict";
  const { $, el, toast, api } = window.Helpline;
  const conversationId = decodeURIComponent(location.pathname.split("/").pop());
  const base = `/api/review/conversations/${encodeURIComponent(conversationId)}`;
  const STATUSES = ["unreviewed", "in_review", "reviewed", "needs_follow_up"];

  const when = (iso) => iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "";
  const pct = (x) => (x === null || x === undefined) ? "" : `${Math.round(x * 100)}%`;

  function annotations(m) {
    const parts = [];
    if (m.intent) parts.push(el("span", { class: "intent" }, `intent ${m.intent} ${pct(m.intent_confidence)}`));
    const t = m.faq_trail;
    if (t) {
      if (t.rule) parts.push(el("span", {}, `rule ${t.rule}`));
      if (t.faq_id) parts.push(el("span", {}, `FAQ ${t.faq_id}${t.score !== undefined && t.score !== null ? ` (${Number(t.score).toFixed(2)})` : ""}`));
      if (Array.isArray(t.top3) && t.top3.length) {
        parts.push(el("span", {}, "top3: " + t.top3.map((x) => typeof x === "object" && x ? `${x.faq_id || x.id || "?"} ${x.score !== undefined ? Number(x.score).toFixed(2) : ""}` : String(x)).join(", ")));
      }
    }
    if (m.feedback) parts.push(el("span", { class: m.feedback }, thumb(m.feedback), m.feedback === "up" ? "helpful" : "not helpful"));
    if (m.latency_ms !== null && m.latency_ms !== undefined) parts.push(el("span", {}, `${Math.round(m.latency_ms)} ms`));
    if (m.status && m.status !== "sent" && m.status !== "answered") parts.push(el("span", { class: "down" }, m.status));
    if (m.error) parts.push(el("span", { class: "down" }, m.error));
    return parts.length ? el("div", { class: "ann" }, parts) : null;
  }

  // An inline SVG thumb (up or down) beside the words: emoji need a font that a browser
  // without an emoji font lacks (an empty box); the words carry the meaning.
  function thumb(direction) {
    const NS = "http://www.w3.org/2000/svg";
    const icon = document.createElementNS(NS, "svg");
    icon.setAttribute("viewBox", "0 0 18 16");
    icon.setAttribute("width", "14");
    icon.setAttribute("height", "12");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("class", "thumb");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M1 7h3v8H1z M5 7l3-6c1.2 0 2 .8 2 2v3h4.5c.9 0 1.5.8 1.3 1.7l-1.2 6c-.2.8-.8 1.3-1.6 1.3H5z");
    path.setAttribute("fill", "currentColor");
    if (direction !== "up") path.setAttribute("transform", "rotate(180 9 8)");
    icon.append(path);
    return icon;
  }

  function messageItem(m) {
    return el("li", { class: `msg msg--${m.author}`, "data-message": String(m.id) },
      el("span", { class: "msg__who" }, `${m.author} · ${when(m.at)}`),
      messageText(m),
      annotations(m));
  }

  // A button press shows the title the customer pressed; the stored payload stays on
  // hover and as a secondary line, for auditing what the bot received.
  function messageText(m) {
    if (m.display_text === undefined || m.display_text === null) return el("div", { class: "msg__text" }, m.text);
    return [
      el("div", { class: "msg__text", title: m.text }, m.display_text),
      el("div", { class: "msg__payload muted" }, `payload: ${m.text}`),
    ];
  }

  function eventItem(e) {
    return el("li", { class: "event" },
      el("strong", {}, `${e.ticket} ${e.kind.replace(/_/g, " ")}`),
      ` by ${e.actor} · ${when(e.at)}`,
      e.ownership ? ` · ${e.ownership}` : "",
      e.note ? el("div", {}, e.note) : null);
  }

  function render(data) {
    const c = data.conversation;
    $("head").replaceChildren(
      el("h2", {}, `Conversation on ${c.channel}, ${when(c.started_at)}`),
      el("p", { class: "muted" }, `Outcome: ${c.outcome.replace(/_/g, " ")} · owner now: ${c.owner.owner}${c.owner.agent_name ? ` (${c.owner.agent_name})` : ""} · last activity ${when(c.last_activity_at)} · id ${c.id}`));
    const items = data.messages.map((m) => ({ at: m.at, node: messageItem(m) }))
      .concat(data.ticket_events.map((e) => ({ at: e.at, node: eventItem(e) })))
      .concat(data.notes.map((n) => ({ at: n.at, node: el("li", { class: "event" }, el("strong", {}, `${n.ticket} internal note`), ` by ${n.author} · ${when(n.at)}`, el("div", {}, n.text)) })));
    items.sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
    $("transcript").replaceChildren(...items.map((i) => i.node));

    const select = $("review-status");
    select.replaceChildren(...STATUSES.map((s) => el("option", { value: s }, s.replace(/_/g, " "))));
    select.value = data.review.status;
    $("reviewer").textContent = data.review.reviewer ? `Set by ${data.review.reviewer}, ${when(data.review.updated_at)}` : "";
    renderTags(data.tags);
    $("comments").replaceChildren(...data.comments.map(commentItem));
    if (data.tickets.length) {
      $("tickets").replaceChildren(...data.tickets.map((t) => el("dl", { class: "facts" },
        el("dt", {}, "Ticket"), el("dd", {}, `${t.number} (${t.status}${t.close_reason ? `, ${t.close_reason}` : ""})`),
        el("dt", {}, "Reason"), el("dd", {}, `${t.reason.replace(/_/g, " ")} · ${t.category} · P${t.priority}`),
        el("dt", {}, "Agent"), el("dd", {}, t.assignee_name || t.previous_assignee_name || "—"),
        el("dt", {}, "Subject"), el("dd", {}, t.subject || "—"),
        el("dt", {}, "Summary"), el("dd", {}, t.summary || "—"),
        t.resolution_note ? [el("dt", {}, "Resolution"), el("dd", {}, t.resolution_note)] : null)));
    }
    if (data.csat.length) {
      $("csat").replaceChildren(...data.csat.map((s) => el("dl", { class: "facts" },
        el("dt", {}, "Asked"), el("dd", {}, `${when(s.at)} (${s.trigger.replace(/_/g, " ")}, ${s.state})`),
        el("dt", {}, "Rating"), el("dd", {}, s.rating ? `${s.rating}/5` : "—"),
        el("dt", {}, "Recommend"), el("dd", {}, s.would_recommend === null ? "—" : s.would_recommend ? "yes" : "no"),
        s.comment ? [el("dt", {}, "Comment"), el("dd", {}, s.comment)] : null)));
    }
  }

  function commentItem(c) {
    return el("li", {}, el("span", { class: "msg__who" }, `${c.author} · ${when(c.at)}`), c.text);
  }

  function renderTags(tags) {
    $("tags").replaceChildren(...tags.map((tag) => el("li", {}, tag,
      el("button", { type: "button", "aria-label": `Remove tag ${tag}`, onclick: () => removeTag(tag) }, "×"))));
  }

  async function reload() {
    try { render(await api("GET", base)); } catch (error) {
      if (error.message !== "signed out") toast(`Could not load: ${error.message}`);
    }
  }

  async function removeTag(tag) {
    try { await api("DELETE", `${base}/tags/${encodeURIComponent(tag)}`); await reload(); } catch (error) { toast(error.message); }
  }

  $("review-status").addEventListener("change", async (event) => {
    try { await api("PUT", `${base}/status`, { status: event.target.value }); await reload(); toast("Review status saved"); } catch (error) { toast(error.message); }
  });
  $("tag-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api("POST", `${base}/tags`, { tag: $("tag-input").value }); $("tag-input").value = ""; await reload(); } catch (error) { toast(error.message); }
  });
  $("comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api("POST", `${base}/comments`, { text: $("comment-input").value }); $("comment-input").value = ""; await reload(); } catch (error) { toast(error.message); }
  });
  if (document.referrer && new URL(document.referrer).pathname === "/review") $("back").href = document.referrer;
  reload();
})();
