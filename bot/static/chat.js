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
  const pending = new Map(); // client message id -> {text, element}; re-sent after reconnect
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

  function addMessage(kind, text, who, quickReplies) {
    const item = document.createElement("li");
    item.className = "msg msg--" + kind;
    const label = document.createElement("span");
    label.className = "msg__who";
    label.textContent = who;
    item.appendChild(label);
    const body = document.createElement("span");
    body.className = "msg__text";
    body.textContent = text;
    item.appendChild(body);
    if (quickReplies && quickReplies.length) {
      const group = document.createElement("div");
      group.className = "replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      quickReplies.forEach(function (reply) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = reply.title;
        button.addEventListener("click", function () { send(reply.payload, reply.title); });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function renderBot(message) {
    const system = message.author === "system";
    const who = system ? "Notice" : (message.author === "agent" ? "Agent" : "Assistant");
    addMessage(system ? "system" : "out", message.text || "", who, message.quick_replies);
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
    const element = addMessage("in", shownAs || text, "You");
    element.classList.add("msg--pending");
    pending.set(id, { text: text, element: element });
    if (ready) emitMessage(id, text);
  }

  socket.on("connect", function () {
    setStatus("Connected");
    socket.emit("session_request", { session_id: localStorage.getItem(STORAGE_KEY) });
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
      if (m.direction === "in") addMessage("in", m.text, "You");
      else renderBot(m);
    });
  });
  socket.on("bot_uttered", renderBot);
  socket.on("helpline_notice", function (notice) { showNotice(notice.text); });
  socket.on("helpline_error", function (error) { showNotice(error.error); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
})();
