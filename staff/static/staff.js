// Helpers shared by the staff pages (agent console, review, dashboard, FAQ gaps), loaded
// before each page's own script as window.Helpline. Texts from customers, agents and the
// FAQ go into the page through el(), which makes text nodes of strings: never HTML.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  // el("a", { class: "x", href, onclick: fn }, "text", node, [more], null): attributes
  // whose value is null or undefined are left out, as are such children (and false).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function toast(text, ms = 6000) {
    const node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { node.hidden = true; }, ms);
  }

  // One JSON request as the signed-in user: { status, json } (json null when the body is
  // not JSON). A 401 means the session ended: off to sign-in, and back here afterwards.
  async function request(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { "X-CSRF-Token": csrf } : { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("signed out");
    }
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    return { status: response.status, json };
  }

  // The reason a request failed, from FastAPI's {"detail": ...} (a string, or a list of
  // validation errors) or the status code.
  function describe(json, status) {
    const detail = json && json.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => (d && d.msg ? `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}` : JSON.stringify(d))).join("; ");
    }
    if (detail && typeof detail === "object") return detail.message || JSON.stringify(detail);
    return status ? `HTTP ${status}` : "no response";
  }

  // Like request(), but returns the JSON body and throws (with .status and .json) unless 2xx.
  async function api(method, path, body) {
    const { status, json } = await request(method, path, body);
    if (status < 200 || status >= 300) {
      const error = new Error(describe(json, status));
      error.status = status;
      error.json = json;
      throw error;
    }
    return json || {};
  }

  window.Helpline = Object.freeze({ $, csrf, el, toast, request, describe, api });
})();
