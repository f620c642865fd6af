// Helpline agent console. All text from customers, the bot and other agents is put into
// the page with textContent (never innerHTML), so HTML or script shows as text.
(function () {
  "use strict";
  const { $, csrf, el, toast, api } = window.Helpline;
  let me = null;
  let current = null; // ticket id shown on the right
  let suggestTimer = null;
  let knownQueue = null; // ids of waiting tickets at the last refresh (null: not loaded yet)
  let mineIds = new Set(); // the caller's own open tickets
  let numbers = new Map(); // ticket id -> number, for alerts
  let lastTyping = 0; // the customer's page shows "typing"; signalled at most every 2 s

  function slaBadges(sla) {
    return ["first_response", "resolution"].map((kind) => {
      const level = (sla && sla[kind]) || "ok";
      const label = kind === "first_response" ? "first reply" : "resolution";
      return el("span", { class: `badge sla-${level}`, title: `${label} SLA: ${level}` }, `${label}: ${level.replace("_", " ")}`);
    });
  }

  function ticketButton(ticket) {
    return el("li", {}, el("button", {
      type: "button", "data-ticket": ticket.id, "aria-current": String(ticket.id === current),
      onclick: () => openTicket(ticket.id),
    },
      el("strong", {}, ticket.number), " ",
      el("span", { class: `badge p${ticket.priority}` }, `P${ticket.priority}`),
      el("span", { class: "badge" }, ticket.channel),
      el("span", { class: "badge" }, ticket.reason.replace(/_/g, " ")),
      el("div", { class: "muted" }, ticket.summary || "(no summary)"),
      el("div", {}, slaBadges(ticket.sla)),
    ));
  }

  async function refreshQueue() {
    try {
      const data = await api("GET", "/api/queue");
      announceNewTickets(data.queue);
      mineIds = new Set(data.mine.map((t) => t.id));
      numbers = new Map([...data.queue, ...data.mine].map((t) => [t.id, t.number]));
      $("queue").replaceChildren(...data.queue.map(ticketButton));
      $("mine").replaceChildren(...data.mine.map(ticketButton));
      $("queue-status").textContent = `${data.queue.length} waiting`;
    } catch (error) { if (error.message !== "signed out") toast(`Queue: ${error.message}`); }
  }

  // A ticket that entered the queue since the last refresh: sound and/or notification.
  function announceNewTickets(queue) {
    const ids = new Set(queue.map((t) => t.id));
    if (knownQueue !== null) {
      queue.filter((t) => !knownQueue.has(t.id)).forEach((t) => window.HelplineAlerts.alertAgent({
        title: `New ticket ${t.number}`,
        body: `${t.reason.replace(/_/g, " ")} · ${t.category} · on ${t.channel} · P${t.priority}`,
        tag: `ticket-${t.id}`, onclick: () => openTicket(t.id),
      }));
    }
    knownQueue = ids;
  }

  // A customer wrote in one of the caller's chats (or the one open here): unless the agent
  // is looking at that very chat, alert them.
  function announceCustomerMessage(data) {
    if (!mineIds.has(data.ticket_id) && data.ticket_id !== current) return;
    if (data.ticket_id === current && document.visibilityState === "visible" && document.hasFocus()) return;
    window.HelplineAlerts.alertAgent({
      title: `Customer wrote in ${numbers.get(data.ticket_id) || "ticket " + data.ticket_id}`,
      body: "Open the console to read and reply.", tag: `message-${data.ticket_id}`,
      onclick: () => openTicket(data.ticket_id),
    });
  }

  function trailText(trail) {
    if (!trail) return null;
    const top = (trail.top3 || []).map((c) => `${c.faq_id} ${Number(c.score).toFixed(2)}`).join(", ");
    const parts = [`rule: ${trail.rule}`];
    if (trail.faq_id) parts.push(`faq: ${trail.faq_id}`);
    if (trail.score !== undefined && trail.score !== null) parts.push(`score: ${Number(trail.score).toFixed(2)}`);
    if (trail.intent) parts.push(`intent: ${trail.intent}`);
    if (top) parts.push(`top-3: ${top}`);
    return el("div", { class: "trail" }, parts.join(" · "));
  }

  function messageItem(message) {
    const who = message.direction === "in" ? "customer" : message.author;
    const extra = [];
    if (message.direction === "in" && message.intent) {
      extra.push(el("div", { class: "trail" }, `intent: ${message.intent} (${Number(message.intent_confidence || 0).toFixed(2)})`));
    }
    if (message.faq_trail) extra.push(trailText(message.faq_trail));
    if (message.feedback) extra.push(el("div", { class: "trail" }, `feedback: ${message.feedback === "up" ? "helpful" : "not helpful"}`));
    if (message.status === "undelivered") extra.push(el("div", { class: "trail undelivered" }, "not delivered to the customer"));
    // A button press reads as the button's title (display_text); the payload stays on hover.
    const pressed = message.display_text !== undefined && message.display_text !== null;
    return el("li", { class: `msg msg--${who}`, "data-message": message.id, "data-status": message.status,
                      title: pressed ? message.text : null },
      el("span", { class: "msg__who" }, who), pressed ? message.display_text : message.text, extra);
  }

  // A message seen again is an update (e.g. its delivery failed after it was sent): redraw it in place.
  function showMessage(message) {
    const list = document.querySelector(".transcript");
    if (!list) return;
    const shown = list.querySelector(`[data-message="${message.id}"]`);
    if (shown) {
      // Delivery only ever turns "sent" into "undelivered"; the reply to the POST can
      // arrive after the socket's update and must not undo it.
      if (!(shown.dataset.status === "undelivered" && message.status === "sent")) shown.replaceWith(messageItem(message));
      return;
    }
    list.appendChild(messageItem(message));
    list.scrollTop = list.scrollHeight; // the transcript scrolls in its own pane
  }

  // The panel is rebuilt whole on every redraw (the claim's own refresh, then the
  // 'ticket_changed' event it causes, another agent's change), so its text boxes are new
  // elements. Before, only their text was copied over: the focus fell to the page and the
  // keys typed after the redraw were lost, so an agent typing straight after Claim sent "Hi".
  // keepTyping carries the text, the focused box, its caret and the suggestions across;
  // it runs in the same task as the redraw, so no key can fall in between. A draft stays
  // with its ticket: it never follows the agent into another customer's chat.
  const DRAFT_FIELDS = ["reply", "note", "resolve-note"];
  const leftDrafts = new Map(); // ticket id -> texts typed there before the agent opened another ticket

  function keepTyping(ticketId) {
    const shown = Number($("ticket").dataset.shown) || null;
    const typed = Object.fromEntries(DRAFT_FIELDS.filter((id) => $(id)?.value).map((id) => [id, $(id).value]));
    if (shown !== ticketId) {
      if (shown !== null && Object.keys(typed).length) leftDrafts.set(shown, typed);
      const back = leftDrafts.get(ticketId) || {};
      leftDrafts.delete(ticketId);
      return () => Object.entries(back).forEach(([id, value]) => { if ($(id)) $(id).value = value; });
    }
    const active = document.activeElement;
    const caret = active && DRAFT_FIELDS.includes(active.id) ? {
      id: active.id, start: active.selectionStart, end: active.selectionEnd,
      direction: active.selectionDirection, scroll: active.scrollTop,
    } : null;
    const suggestions = $("suggestions") ? [...$("suggestions").children] : [];
    return () => {
      Object.entries(typed).forEach(([id, value]) => { if ($(id)) $(id).value = value; });
      if (suggestions.length && $("suggestions")) $("suggestions").replaceChildren(...suggestions);
      const box = caret && $(caret.id);
      if (!box) return;
      box.focus({ preventScroll: true });
      box.setSelectionRange(caret.start, caret.end, caret.direction);
      box.scrollTop = caret.scroll;
    };
  }

  function renderTicket(data) {
    const t = data.ticket;
    const restoreTyping = keepTyping(t.id);
    const mine = t.assignee_id === me.id;
    const actions = el("div", { class: "actions" });
    if (!t.assignee_id && !["resolved", "closed"].includes(t.status)) {
      actions.appendChild(el("button", { type: "button", class: "primary", onclick: () => act("claim") }, "Claim"));
    }
    if (mine) {
      actions.append(
        el("button", { type: "button", onclick: () => act("hand-back", { note: "" }) }, "Hand back to bot"),
      );
    }
    // The side panel scrolls on its own; these keep Details, Notes and Resolve one click away.
    actions.append(el("button", { type: "button", onclick: () => jumpTo("ticket-details") }, "Details"),
      el("button", { type: "button", onclick: () => jumpTo("ticket-notes", "note") }, "Notes"));
    if (mine) actions.append(el("button", { type: "button", onclick: () => jumpTo("ticket-resolve", "resolve-note") }, "Resolve…"));
    const composer = mine ? el("form", { class: "composer", onsubmit: sendReply },
      el("label", { for: "reply" }, "Reply to the customer"),
      el("textarea", { id: "reply", rows: "3", maxlength: "4000", oninput: suggest }),
      el("ul", { id: "suggestions", class: "suggestions", "aria-label": "Suggested answers" }),
      el("button", { type: "submit" }, "Send"),
    ) : null;
    // The ticket's own category is preselected: resolving must not re-categorise silently.
    const categories = (data.categories || []).map((c) => el("option", { value: c, selected: c === t.category ? "" : null }, c));
    const side = el("aside", { class: "side" },
      el("section", {}, el("h3", {}, "Customer"),
        el("div", {}, `Channel: ${data.customer.channel}`),
        el("div", { class: "muted" }, `Conversation since ${new Date(data.customer.created_at).toLocaleString()}`),
        el("h3", {}, "Past tickets"),
        el("ul", {}, (data.customer.past_tickets || []).map((p) => el("li", {}, `${p.number} · ${p.status} · ${p.reason}`))),
      ),
      el("section", { id: "ticket-details" }, el("h3", {}, "Details"),
        el("ul", {}, Object.entries(t.details || {}).map(([k, v]) => el("li", {}, `${k}: ${v}`)))),
      el("section", { id: "ticket-notes" }, el("h3", {}, "Internal notes"),
        el("ul", { id: "notes" }, (data.notes || []).map((n) => el("li", {}, `${n.author}: ${n.text}`))),
        mine || me.role !== "agent" ? el("form", { onsubmit: addNote },
          el("label", { for: "note" }, "Add a note (not shown to the customer)"),
          el("textarea", { id: "note", rows: "2" }), el("button", { type: "submit" }, "Add note")) : null),
      mine ? el("section", {}, el("h3", {}, "Transfer"),
        el("form", { onsubmit: transfer },
          el("label", { for: "transfer-to" }, "Agent"), el("select", { id: "transfer-to" }),
          el("button", { type: "submit" }, "Transfer"))) : null,
      mine ? el("section", { id: "ticket-resolve" }, el("h3", {}, "Resolve"),
        el("form", { onsubmit: resolve },
          el("label", { for: "resolve-category" }, "Category"), el("select", { id: "resolve-category" }, categories),
          el("label", { for: "resolve-note" }, "Resolution note (sent to the customer)"),
          el("textarea", { id: "resolve-note", rows: "2", required: "" }),
          el("button", { type: "submit" }, "Resolve"))) : null,
    );
    $("ticket").replaceChildren(el("div", { class: "ticket-head" },
      el("header", {},
        el("h2", {}, `${t.number} — ${t.summary || t.reason}`),
        el("div", {},
          el("span", { class: `badge p${t.priority}` }, `P${t.priority}`),
          el("span", { class: "badge" }, t.status.replace(/_/g, " ")),
          el("span", { class: "badge" }, t.category), el("span", { class: "badge" }, t.reason.replace(/_/g, " ")),
          el("span", { class: "badge", "data-channel": data.customer.channel }, `on ${data.customer.channel}`),
          slaBadges(t.sla),
          el("span", { class: "muted" }, t.assignee_name ? ` · with ${t.assignee_name}` : " · unassigned")),
      ),
      actions),
      el("div", { class: "columns" },
        el("div", { class: "conversation" }, el("ol", { class: "transcript", "aria-label": "Transcript", tabindex: "0" }, data.messages.map(messageItem)), composer),
        side),
    );
    $("ticket").dataset.shown = String(t.id);
    restoreTyping();
    if (mine) loadAgents(t.assignee_id);
    const list = document.querySelector(".transcript");
    if (list) list.scrollTop = list.scrollHeight;
  }

  function jumpTo(sectionId, fieldId) {
    const section = $(sectionId);
    if (!section) return;
    section.scrollIntoView({ block: "nearest" });
    section.classList.add("jumped");
    setTimeout(() => section.classList.remove("jumped"), 1500);
    if (fieldId && $(fieldId)) $(fieldId).focus({ preventScroll: true });
  }

  async function openTicket(id) {
    current = id;
    socket.emit("watch", { ticket_id: id });
    try {
      const data = await api("GET", `/api/tickets/${id}`);
      if (id === current) renderTicket(data); // the agent may have opened another ticket meanwhile
    } catch (error) { toast(error.message); }
    document.querySelectorAll("[data-ticket]").forEach((b) => b.setAttribute("aria-current", String(Number(b.dataset.ticket) === id)));
  }

  // clearField: the box whose text the action used up (it must not come back as a draft).
  async function act(action, body, clearField) {
    try {
      await api("POST", `/api/tickets/${current}/${action}`, body || {});
      if (clearField && $(clearField)) $(clearField).value = "";
      await openTicket(current);
    } catch (error) {
      toast(error.status === 409 ? `${error.message} The queue was refreshed.` : error.message);
    }
    refreshQueue();
  }

  async function sendReply(event) {
    event.preventDefault();
    const box = $("reply");
    const text = box.value;
    if (!text.trim()) return;
    try {
      const data = await api("POST", `/api/tickets/${current}/messages`, { text });
      box.value = "";
      $("suggestions").replaceChildren();
      showMessage(data.message);
    } catch (error) { toast(error.message); }
  }

  function signalTyping() {
    if (!current || Date.now() - lastTyping < 2000) return;
    lastTyping = Date.now();
    socket.emit("typing", { ticket_id: current });
  }

  function suggest() {
    signalTyping();
    clearTimeout(suggestTimer);
    const query = $("reply").value.trim();
    suggestTimer = setTimeout(async () => {
      if (query.length < 3) { $("suggestions").replaceChildren(); return; }
      try {
        const data = await api("GET", `/api/suggestions?q=${encodeURIComponent(query)}`);
        $("suggestions").replaceChildren(...data.suggestions.map((s) => el("li", {},
          el("button", { type: "button", title: s.answer, onclick: () => { $("reply").value = s.answer; } },
            `${s.question} (${Number(s.score).toFixed(2)})`))));
      } catch (error) { /* suggestions are a convenience; typing goes on */ }
    }, 250);
  }

  async function addNote(event) {
    event.preventDefault();
    const text = $("note").value;
    if (!text.trim()) return;
    await act("notes", { text }, "note");
  }

  async function loadAgents(self) {
    const data = await api("GET", "/api/agents");
    const select = $("transfer-to");
    if (!select) return;
    select.replaceChildren(...data.agents.filter((a) => a.id !== self)
      .map((a) => el("option", { value: String(a.id) }, `${a.display_name} (${a.presence})`)));
  }

  async function transfer(event) {
    event.preventDefault();
    await act("transfer", { agent_id: Number($("transfer-to").value) });
  }

  async function resolve(event) {
    event.preventDefault();
    await act("resolve", { note: $("resolve-note").value, category: $("resolve-category").value });
  }

  $("presence").addEventListener("change", async (event) => {
    try { await api("POST", "/api/presence", { status: event.target.value }); }
    catch (error) { toast(error.message); }
  });

  const socket = io("/console", { transports: ["websocket", "polling"], auth: { csrf_token: csrf } });
  socket.on("connect", () => { if (current) socket.emit("watch", { ticket_id: current }); refreshQueue(); });
  socket.on("queue_changed", refreshQueue);
  socket.on("ticket_message", (data) => { if (data.ticket_id === current) showMessage(data.message); });
  socket.on("customer_message", announceCustomerMessage);
  socket.on("ticket_changed", (data) => { if (data.ticket_id === current) openTicket(current); refreshQueue(); });

  (async function start() {
    me = await api("GET", "/api/me");
    await api("POST", "/api/presence", { status: "online" });
    refreshQueue();
    // Socket traffic does not extend the session; an HTTP call every few minutes does,
    // so an agent watching the queue is not signed out after the idle timeout.
    setInterval(() => api("GET", "/api/me").catch(() => {}), 5 * 60 * 1000);
  })();
})();
