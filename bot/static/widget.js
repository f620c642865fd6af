// Helpline's embeddable chat: <script src="https://help.example.com/widget.js" async></script>
// Served by the gateway at /widget.js with the operator's settings and the socket.io client
// filled in (bot/channels/web.py: widget_script). It runs on foreign pages, so:
// - everything lives in a Shadow DOM (the page's CSS cannot reach in, ours cannot leak out);
// - no inline script or style: the stylesheet is /static/widget.css from the gateway, the
//   accent colour a CSS custom property set through the CSSOM;
// - the socket.io client is bundled here through its CommonJS branch, so it never
//   replaces a window.io (or an AMD module) the page has;
// - the gateway is always the origin this file came from: data- attributes choose title
//   and colour only, and the gateway checks the page's origin (HELPLINE_ALLOWED_ORIGINS);
// - whatever a customer, the bot or an agent wrote goes in with textContent, never HTML.
(function () {
  "use strict";
  const SETTINGS = "__HELPLINE_WIDGET_CONFIG__";
  const io = (function (exports, module, define) {
/* __HELPLINE_SOCKET_IO__ */
    return module.exports;
  })({}, { exports: {} }, undefined);

  const script = document.currentScript;
  if (!script || window.__helplineWidget) return; // loaded twice: keep the first
  window.__helplineWidget = true;

  const SERVER = new URL(script.src, document.baseURI).origin;
  const STORAGE_KEY = "helpline.widget:" + SERVER;
  const SEEN_KEY = STORAGE_KEY + ":seen";
  const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  const TITLE = (script.dataset.title || SETTINGS.title).trim().slice(0, 60) || SETTINGS.title;
  const COLOR = HEX.test(script.dataset.color || "") ? script.dataset.color : SETTINGS.color;
  const MAX_CHARS = SETTINGS.maxChars;
  const SURVEY = /^\/csat_[a-z_]+\{/;

  const pending = new Map(); // client message id -> {text, element}; re-sent after reconnect
  const offered = new Map(); // button payload -> title, so a redrawn history shows the choice
  let socket = null;
  let ready = false;
  let conversation = localStorage.getItem(STORAGE_KEY);
  let unread = 0;
  let typingTimer = null;
  let agentName = null;

  // -- building blocks ---------------------------------------------------------------

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      const value = attributes[name];
      if (name === "text") node.textContent = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function icon(path) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  // Our FAQ feedback buttons' titles (actions/offers.py: "\u{1F44D} Helpful") start with a
  // thumbs-up or thumbs-down emoji; a browser without an emoji font draws an empty box for it.
  // On the buttons and in the customer's echo of the choice the thumb is an inline SVG and the
  // words stay text (same drawing as the chat page, chat.js). Only titles of buttons we offered
  // get this: emoji a customer types are left to the font stack (widget.css).
  const THUMBS = { "\u{1F44D}": "up", "\u{1F44E}": "down" };
  const EMOJI_TAIL = /^[\uFE0F\u{1F3FB}-\u{1F3FF}]+/u; // variation selector, skin tones

  function thumbOf(title) {
    const chars = Array.from(title || "");
    const direction = THUMBS[chars[0]];
    if (!direction) return null;
    return { direction: direction, words: chars.slice(1).join("").replace(EMOJI_TAIL, "").trim() };
  }

  // label: the icon's accessible name where the text around it has none (the echo);
  // omitted on a button, whose aria-label already holds the whole title.
  function thumbIcon(direction, label) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 18 16");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "14");
    svg.setAttribute("focusable", "false");
    if (label) { svg.setAttribute("role", "img"); svg.setAttribute("aria-label", label); }
    else svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "thumb thumb--" + direction);
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", "M1 7h3v8H1z M5 7l3-6c1.2 0 2 .8 2 2v3h4.5c.9 0 1.5.8 1.3 1.7l-1.2 6c-.2.8-.8 1.3-1.6 1.3H5z");
    shape.setAttribute("fill", "currentColor");
    if (direction === "down") shape.setAttribute("transform", "rotate(180 9 8)");
    svg.appendChild(shape);
    return svg;
  }

  // A button or an echo bubble showing a title we offered: SVG thumb + words, or the title.
  function showTitle(node, title, forButton) {
    const thumb = thumbOf(title);
    if (!thumb) { node.textContent = title; return node; }
    if (forButton) node.setAttribute("aria-label", title);
    node.replaceChildren(thumbIcon(thumb.direction, forButton ? null : "Thumbs " + thumb.direction), " " + thumb.words);
    return node;
  }

  // The times the team promises ("at the latest by ...") read in the customer's clock.
  function customerTimeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { return null; }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  // -- the widget's DOM ----------------------------------------------------------------

  const host = el("div", { id: "helpline-widget", "data-helpline": "" });
  host.style.setProperty("--hl-accent", COLOR);
  host.hidden = true; // shown once the stylesheet is in, so the page never sees it unstyled
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = el("link", { rel: "stylesheet", href: SERVER + "/static/widget.css" });
  stylesheet.addEventListener("load", function () { host.hidden = false; });

  const badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  const launcher = el("button", {
    type: "button", class: "launcher", "aria-controls": "hl-panel", "aria-expanded": "false",
    onclick: function () { toggle(); },
  }, [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"), badge]);

  const statusLine = el("p", { class: "status", id: "hl-status", role: "status", text: "Connecting…" });
  const closeButton = el("button", {
    type: "button", class: "close", "aria-label": "Close chat", onclick: function () { close(); },
  }, [icon("M6 6l12 12M18 6L6 18")]);
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const typing = el("p", { class: "typing", "aria-live": "polite", hidden: true });
  const notice = el("p", { class: "notice", role: "alert", hidden: true });
  const lengthInfo = el("p", { class: "length", id: "hl-length", "aria-live": "polite", hidden: true });
  const input = el("textarea", {
    id: "hl-input", rows: "1", placeholder: "Type your question…", "aria-describedby": "hl-length",
  });
  const sendButton = el("button", { type: "submit", class: "send", text: "Send" });
  const form = el("form", { class: "form", autocomplete: "off" }, [
    el("label", { for: "hl-input", class: "visually-hidden", text: "Your message" }), input, sendButton,
  ]);
  const panel = el("div", {
    class: "panel", id: "hl-panel", role: "dialog", "aria-labelledby": "hl-title", hidden: true,
  }, [
    el("header", { class: "header" }, [
      el("div", {}, [el("h2", { id: "hl-title", text: TITLE }), statusLine]),
      closeButton,
    ]),
    log, typing, notice, lengthInfo, form,
  ]);
  root.append(stylesheet, panel, launcher);

  function updateLauncher() {
    const open = !panel.hidden;
    launcher.setAttribute("aria-expanded", String(open));
    let label = (open ? "Close chat: " : "Open chat: ") + TITLE;
    if (unread) label += ", " + unread + " unread message" + (unread === 1 ? "" : "s");
    launcher.setAttribute("aria-label", label);
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = unread === 0;
  }

  // -- opening, closing, unread --------------------------------------------------------

  function isOpen() { return !panel.hidden; }

  // On a phone the open chat covers the page: it is modal there, and Tab stays inside.
  const phone = window.matchMedia("(max-width: 480px)");

  function keepFocusInside(event) {
    const focusable = Array.prototype.filter.call(
      panel.querySelectorAll("button, textarea"), function (node) { return !node.disabled; });
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && root.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && root.activeElement === last) { event.preventDefault(); first.focus(); }
  }

  function open() {
    panel.hidden = false;
    panel.setAttribute("aria-modal", String(phone.matches));
    markSeen();
    updateLauncher();
    connect();
    input.focus();
    log.scrollTop = log.scrollHeight;
  }

  function close() {
    panel.hidden = true;
    updateLauncher();
    launcher.focus();
  }

  function toggle() { if (isOpen()) close(); else open(); }

  // The highest bot message id the customer has seen with the chat open: anything newer
  // counts as unread, also after a reload or in another tab.
  function seenId() { return Number(localStorage.getItem(SEEN_KEY)) || 0; }

  function markSeen() {
    unread = 0;
    let highest = seenId();
    log.querySelectorAll("[data-id]").forEach(function (item) { highest = Math.max(highest, Number(item.dataset.id)); });
    localStorage.setItem(SEEN_KEY, String(highest));
  }

  function countUnread(id) {
    if (isOpen() && document.visibilityState === "visible") { markSeen(); return; }
    if (id && id > seenId()) unread += 1;
    updateLauncher();
  }

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "Tab" && phone.matches) keepFocusInside(event);
  });

  // -- messages ------------------------------------------------------------------------

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(showNotice.timer);
    showNotice.timer = setTimeout(function () { notice.hidden = true; }, 6000);
  }

  // chosen: text is the title of a button we offered (the customer's echo of it).
  function addMessage(kind, text, who, replies, id, chosen) {
    const body = chosen ? showTitle(el("span", { class: "text" }), text, false) : el("span", { class: "text", text: text });
    const item = el("li", { class: "msg msg--" + kind, "data-id": id || null }, [
      el("span", { class: "who", text: who }), body,
    ]);
    if (replies && replies.length) item.appendChild(replyGroup(replies));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function replyGroup(replies) {
    const group = el("div", { class: "replies", role: "group", "aria-label": "Suggested replies" });
    const once = replies.every(function (r) { return SURVEY.test(r.payload || ""); });
    replies.forEach(function (reply) {
      offered.set(reply.payload, reply.title);
      group.appendChild(showTitle(el("button", {
        type: "button",
        onclick: function (event) {
          if (once) {
            group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
            event.currentTarget.setAttribute("aria-pressed", "true");
          }
          send(reply.payload, reply.title);
        },
      }), reply.title, true));
    });
    return group;
  }

  function greet() {
    log.appendChild(el("li", { class: "msg msg--out msg--greeting" }, [
      el("span", { class: "who", text: "Assistant" }), el("span", { class: "text", text: SETTINGS.greeting }),
    ]));
  }

  // bot_uttered is Rasa's message shape: what is ours (author, id) is in metadata.
  function renderBot(message) {
    const meta = message.metadata || {};
    const system = meta.author === "system";
    const who = system ? "Notice" : meta.author === "agent" ? (agentName || "Agent") : "Assistant";
    return addMessage(system ? "system" : "out", message.text || "", who, message.quick_replies, meta.id);
  }

  function onBotUttered(message) {
    const meta = message.metadata || {};
    if (meta.notice) return; // a refusal written for Rasa widgets; helpline_notice shows it here
    if (meta.author === "agent") hideTyping();
    renderBot(message);
    countUnread(meta.id);
  }

  function onHistory(data) {
    const messages = data.messages || [];
    const stored = new Set();
    log.replaceChildren();
    greet();
    unread = 0;
    const seen = seenId();
    messages.forEach(function (m) {
      const meta = m.metadata || {};
      if (meta.direction === "in") {
        if (meta.client_message_id) stored.add(meta.client_message_id);
        const title = offered.get(m.text);
        addMessage("in", title || m.text, "You", null, null, Boolean(title));
      } else {
        renderBot(m);
        if (meta.id > seen) unread += 1;
      }
    });
    pending.forEach(function (entry, id) {
      if (stored.has(id)) pending.delete(id);
      else log.appendChild(entry.element);
    });
    if (isOpen() && document.visibilityState === "visible") markSeen();
    updateLauncher();
  }

  // -- agent states --------------------------------------------------------------------

  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
    typing.textContent = "";
  }

  function onAgent(signal) {
    const name = signal.name || "An agent";
    if (signal.state === "typing") {
      typing.textContent = name + " is typing…";
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(hideTyping, 5000);
      return;
    }
    hideTyping();
    agentName = signal.state === "joined" ? name : null;
    statusLine.textContent = agentName ? name + " from our team has joined" : "Online";
    panel.classList.toggle("with-agent", Boolean(agentName));
  }

  // -- length warning ------------------------------------------------------------------

  // Warn from 90% of the limit and refuse to send past it, instead of cutting the text.
  function checkLength() {
    const length = input.value.length;
    const over = length > MAX_CHARS;
    lengthInfo.hidden = length < MAX_CHARS * 0.9;
    lengthInfo.classList.toggle("is-over", over);
    lengthInfo.textContent = over
      ? "Too long: " + length + " of " + MAX_CHARS + " characters. Please shorten it by " + (length - MAX_CHARS) + " to send."
      : length + " of " + MAX_CHARS + " characters.";
    sendButton.disabled = over;
    input.setAttribute("aria-invalid", String(over));
    return !over;
  }

  // -- talking to the gateway ----------------------------------------------------------

  function emitMessage(id, text) {
    socket.timeout(15000).emit("user_uttered", { message: text, message_id: id }, function (err, ack) {
      const entry = pending.get(id);
      if (err || !ack) return; // no acknowledgement: stays pending, re-sent on reconnect
      pending.delete(id);
      if (!entry) return;
      entry.element.classList.remove("msg--pending");
      if (ack.status !== "stored") entry.element.remove();
    });
  }

  function send(text, shownAs) {
    if (!text.trim()) { showNotice("Empty message ignored."); return; }
    const id = newId();
    const element = addMessage("in", shownAs || text, "You", null, null, Boolean(shownAs));
    element.classList.add("msg--pending");
    pending.set(id, { text: text, element: element });
    connect();
    if (ready) emitMessage(id, text);
  }

  function connect() {
    if (socket) return;
    socket = io(SERVER, { path: "/socket.io/", transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      statusLine.textContent = agentName ? agentName + " from our team has joined" : "Online";
      socket.emit("session_request", { session_id: conversation, timezone: customerTimeZone() });
    });
    socket.on("connect_error", function () {
      ready = false;
      statusLine.textContent = "The chat can't be reached from this page right now.";
    });
    socket.on("disconnect", function () { ready = false; statusLine.textContent = "Reconnecting…"; });
    socket.on("session_confirm", function (session) {
      const id = typeof session === "string" ? session : session && session.session_id;
      conversation = id;
      localStorage.setItem(STORAGE_KEY, id);
      ready = true;
      socket.emit("history_request", {});
      pending.forEach(function (entry, pendingId) { emitMessage(pendingId, entry.text); });
    });
    socket.on("history", onHistory);
    socket.on("bot_uttered", onBotUttered);
    socket.on("helpline_agent", onAgent);
    socket.on("helpline_notice", function (n) { showNotice(n.text); });
    socket.on("helpline_error", function (e) { showNotice(e.error); });
  }

  // Another tab started (or changed) the conversation: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY && event.newValue && event.newValue !== conversation) {
      conversation = event.newValue;
      if (socket && ready) socket.emit("session_request", { session_id: conversation, timezone: customerTimeZone() });
      else connect();
    }
  });
  // Back to this tab: redraw from the transcript (messages written in another tab).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && socket && ready) socket.emit("history_request", {});
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!checkLength()) { input.focus(); return; }
    const text = input.value;
    input.value = "";
    checkLength();
    send(text);
    input.focus();
  });
  input.addEventListener("input", checkLength);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  greet();
  updateLauncher();
  (document.body || document.documentElement).appendChild(host);
  // A returning customer: connect now, so replies that came while away show as unread.
  if (conversation) connect();
})();
