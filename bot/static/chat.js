// Helpline web chat. Everything a customer or the bot wrote is inserted with
// textContent, never innerHTML, so HTML in a message shows as text.
(function () {
  "use strict";
  const STORAGE_KEY = "helpline.session";
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("input");
  const statusEl = document.getElementById("status");
  const noticeEl = document.getElementById("notice");
  const lengthEl = document.getElementById("length");
  const sendButton = document.getElementById("send");
  const MAX_CHARS = Number(form.dataset.maxChars) || 4000;
  const pending = new Map(); // client message id -> {text, element}; re-sent after reconnect
  const offered = new Map(); // button payload -> title, so a redrawn history shows what was chosen
  // Survey buttons (bot/csat/payloads.py): answered once, the rating drawn as stars.
  const SURVEY = /^\/csat_[a-z_]+\{/;
  const RATING = /^\/csat_rate\{/;
  const RATING_WORDS = ["very poor", "poor", "okay", "good", "excellent"];
  let ready = false;

  const socket = io({ transports: ["websocket", "polling"] });

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function setStatus(text) { statusEl.textContent = text; }

  function showNotice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = false;
    clearTimeout(showNotice.timer);
    showNotice.timer = setTimeout(function () { noticeEl.hidden = true; }, 6000);
  }

  // chosen: text is the title of a button we offered (the customer's echo of it).
  function addMessage(kind, text, who, quickReplies, chosen) {
    const item = document.createElement("li");
    item.className = "msg msg--" + kind;
    const label = document.createElement("span");
    label.className = "msg__who";
    label.textContent = who;
    item.appendChild(label);
    const body = document.createElement("span");
    body.className = "msg__text";
    if (chosen) showTitle(body, text, false);
    else body.textContent = text;
    item.appendChild(body);
    if (quickReplies && quickReplies.length) {
      quickReplies.forEach(function (reply) { offered.set(reply.payload, reply.title); });
      item.appendChild(isRating(quickReplies) ? ratingGroup(quickReplies) : replyGroup(quickReplies));
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function isRating(replies) {
    return replies.length === 5 && replies.every(function (r) { return RATING.test(r.payload || ""); });
  }

  function isSurvey(replies) {
    return replies.every(function (r) { return SURVEY.test(r.payload || ""); });
  }

  // A survey step is answered once: its buttons are disabled after the first click, and
  // the chosen one stays marked.
  function answerOnce(group, button) {
    group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    button.classList.add("is-chosen");
    button.setAttribute("aria-pressed", "true");
  }

  // Our FAQ feedback buttons' titles (actions/offers.py: "\u{1F44D} Helpful") start with a
  // thumbs-up or thumbs-down emoji; a browser without an emoji font draws an empty box for it.
  // On the buttons and in the customer's echo of the choice the thumb is an inline SVG and the
  // words stay text. Only titles of buttons we offered get this: emoji a customer types are
  // left to the font stack (chat.css ends it with emoji fonts).
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
    const NS = "http://www.w3.org/2000/svg";
    const icon = document.createElementNS(NS, "svg");
    icon.setAttribute("viewBox", "0 0 18 16");
    icon.setAttribute("width", "16");
    icon.setAttribute("height", "14");
    icon.setAttribute("focusable", "false");
    if (label) { icon.setAttribute("role", "img"); icon.setAttribute("aria-label", label); }
    else icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("class", "thumb thumb--" + direction);
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M1 7h3v8H1z M5 7l3-6c1.2 0 2 .8 2 2v3h4.5c.9 0 1.5.8 1.3 1.7l-1.2 6c-.2.8-.8 1.3-1.6 1.3H5z");
    path.setAttribute("fill", "currentColor");
    if (direction === "down") path.setAttribute("transform", "rotate(180 9 8)");
    icon.appendChild(path);
    return icon;
  }

  // A button or an echo bubble showing a title we offered: SVG thumb + words, or the title.
  function showTitle(node, title, forButton) {
    const thumb = thumbOf(title);
    if (!thumb) { node.textContent = title; return; }
    if (forButton) node.setAttribute("aria-label", title);
    node.replaceChildren(thumbIcon(thumb.direction, forButton ? null : "Thumbs " + thumb.direction), " " + thumb.words);
  }

  function replyGroup(replies) {
    const group = document.createElement("div");
    group.className = "replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    const once = isSurvey(replies);
    replies.forEach(function (reply) {
      const button = document.createElement("button");
      button.type = "button";
      showTitle(button, reply.title, true);
      button.addEventListener("click", function () {
        if (once) answerOnce(group, button);
        send(reply.payload, reply.title);
      });
      group.appendChild(button);
    });
    return group;
  }

  // Five stars in a row; hovering or focusing a star lights it and the ones before it.
  function ratingGroup(replies) {
    const group = document.createElement("div");
    group.className = "replies replies--rating";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Rate from 1 (very poor) to 5 (excellent)");
    const stars = [];
    function light(upTo) {
      stars.forEach(function (star, index) { star.classList.toggle("is-lit", index < upTo); });
    }
    replies.forEach(function (reply, index) {
      const star = document.createElement("button");
      star.type = "button";
      star.className = "star";
      star.textContent = "\u2605";
      star.dataset.rating = String(index + 1);
      const label = (index + 1) + " out of 5, " + RATING_WORDS[index];
      star.setAttribute("aria-label", label);
      star.title = label;
      star.addEventListener("mouseenter", function () { if (!star.disabled) light(index + 1); });
      star.addEventListener("focus", function () { if (!star.disabled) light(index + 1); });
      star.addEventListener("click", function () {
        answerOnce(group, star);
        light(index + 1);
        send(reply.payload, "\u2605".repeat(index + 1) + "\u2606".repeat(4 - index) + " (" + (index + 1) + "/5)");
      });
      stars.push(star);
      group.appendChild(star);
    });
    group.addEventListener("mouseleave", function () {
      const chosen = group.querySelector(".is-chosen");
      light(chosen ? Number(chosen.dataset.rating) : 0);
    });
    return group;
  }

  // bot_uttered is Rasa's message shape: our own fields (author, id, ...) are in metadata.
  function renderBot(message) {
    const meta = message.metadata || {};
    if (meta.notice) return; // a refusal for Rasa widgets; this page shows helpline_notice
    const system = meta.author === "system";
    const who = system ? "Notice" : (meta.author === "agent" ? "Agent" : "Assistant");
    addMessage(system ? "system" : "out", message.text || "", who, message.quick_replies);
  }

  // Warn from 90% of the limit and refuse to send past it, instead of cutting the text.
  function checkLength() {
    const length = input.value.length;
    const over = length > MAX_CHARS;
    lengthEl.hidden = length < MAX_CHARS * 0.9;
    lengthEl.classList.toggle("is-over", over);
    lengthEl.textContent = over
      ? "Too long: " + length + " of " + MAX_CHARS + " characters. Please shorten it by " + (length - MAX_CHARS) + " to send."
      : length + " of " + MAX_CHARS + " characters.";
    sendButton.disabled = over;
    input.setAttribute("aria-invalid", String(over));
    return !over;
  }

  function emitMessage(id, text) {
    socket.timeout(15000).emit("user_uttered", { message: text, message_id: id }, function (err, ack) {
      const entry = pending.get(id);
      if (err || !ack) return; // no acknowledgement: stays pending, re-sent on reconnect
      pending.delete(id);
      if (entry) entry.element.classList.remove("msg--pending");
      if (ack.status === "refused" || ack.status === "ignored" || ack.status === "error") {
        if (entry) entry.element.remove();
      }
    });
  }

  function send(text, shownAs) {
    if (!text.trim()) { showNotice("Empty message ignored."); return; }
    const id = newId();
    const element = addMessage("in", shownAs || text, "You", null, Boolean(shownAs));
    element.classList.add("msg--pending");
    pending.set(id, { text: text, element: element });
    if (ready) emitMessage(id, text);
  }

  function customerTimeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { return null; }
  }

  socket.on("connect", function () {
    setStatus("Connected");
    // timezone: the times the team promises ("at the latest by ...") read in the customer's clock.
    socket.emit("session_request", { session_id: localStorage.getItem(STORAGE_KEY), timezone: customerTimeZone() });
  });
  socket.on("disconnect", function () { ready = false; setStatus("Reconnecting…"); });
  socket.on("session_confirm", function (session) {
    const id = typeof session === "string" ? session : session && session.session_id;
    const known = localStorage.getItem(STORAGE_KEY) === id;
    localStorage.setItem(STORAGE_KEY, id);
    ready = true;
    if (known && !log.children.length) socket.emit("history_request", {});
    pending.forEach(function (entry, pendingId) { emitMessage(pendingId, entry.text); });
  });
  socket.on("history", function (data) {
    (data.messages || []).forEach(function (m) {
      if ((m.metadata || {}).direction === "in") {
        const title = offered.get(m.text);
        addMessage("in", title || m.text, "You", null, Boolean(title));
      }
      else renderBot(m);
    });
  });
  socket.on("bot_uttered", renderBot);
  socket.on("helpline_notice", function (notice) { showNotice(notice.text); });
  // An agent took the chat (or left it) or is typing a reply: shown in the status line.
  let typingTimer = null;
  socket.on("helpline_agent", function (signal) {
    clearTimeout(typingTimer);
    const name = signal.name || "An agent";
    if (signal.state === "typing") {
      setStatus(name + " is typing…");
      typingTimer = setTimeout(function () { setStatus("Chatting with " + name); }, 5000);
    } else {
      setStatus(signal.state === "joined" ? "Chatting with " + name : "Connected");
    }
  });
  socket.on("helpline_error", function (error) { showNotice(error.error); });

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
})();
