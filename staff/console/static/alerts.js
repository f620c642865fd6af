// Alerts for agents who are not watching the queue: a desktop notification (the browser's
// permission is asked when the agent clicks the button, never on page load) and an optional
// short beep made with WebAudio (no sound file), switched on and off with a checkbox whose
// state is kept in localStorage. Notifications carry the ticket number and reason only,
// never the customer's words (they can show on a locked screen).
(function () {
  "use strict";
  const SOUND_KEY = "helpline.console.sound";
  const NOTIFY_KEY = "helpline.console.notifications";
  const $ = (id) => document.getElementById(id);
  let audio = null;

  const supported = () => "Notification" in window;
  const soundOn = () => localStorage.getItem(SOUND_KEY) === "on";
  const notificationsOn = () => supported() && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) !== "off";

  function say(text) { const status = $("alert-status"); if (status) status.textContent = text; }

  function render() {
    const button = $("notify-toggle");
    const on = notificationsOn();
    button.setAttribute("aria-pressed", String(on));
    button.textContent = `Desktop notifications: ${on ? "on" : "off"}`;
    if (!supported()) { button.disabled = true; button.title = "This browser cannot show notifications"; }
    else if (Notification.permission === "denied") button.title = "Blocked in the browser's site settings";
    else button.removeAttribute("title");
    $("sound-toggle").checked = soundOn();
  }

  // A context may only start after a user gesture; made (or resumed) on the first click.
  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    return audio;
  }

  function beep() {
    const context = audioContext();
    if (!context) return false;
    const now = context.currentTime;
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.type = "sine";
    tone.frequency.setValueAtTime(880, now);
    tone.frequency.setValueAtTime(660, now + 0.12);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.28);
    tone.connect(gain).connect(context.destination);
    tone.start(now);
    tone.stop(now + 0.3);
    return true;
  }

  async function toggleNotifications() {
    if (!supported()) { say("This browser cannot show desktop notifications."); return; }
    if (Notification.permission === "granted") {
      localStorage.setItem(NOTIFY_KEY, notificationsOn() ? "off" : "on");
    } else if (Notification.permission === "denied") {
      say("Notifications are blocked for this site: allow them in the browser's site settings.");
    } else {
      const answer = await Notification.requestPermission();
      localStorage.setItem(NOTIFY_KEY, "on");
      if (answer !== "granted") say("Notifications were not allowed.");
    }
    render();
    if (notificationsOn()) say("You will be notified of new tickets and customer messages while the console is in the background.");
  }

  function toggleSound(event) {
    localStorage.setItem(SOUND_KEY, event.target.checked ? "on" : "off");
    if (event.target.checked) { beep(); say("Sound on."); } else say("Sound off.");
  }

  // { title, body, tag }: sound (when on) and, while the console is not in front, a
  // notification (when allowed). Clicking the notification brings the console back.
  function alertAgent({ title, body, tag, onclick }) {
    const shown = { title, body, sound: false, notification: false };
    if (soundOn()) shown.sound = beep();
    if (notificationsOn() && (document.visibilityState !== "visible" || !document.hasFocus())) {
      const note = new Notification(title, { body, tag, renotify: Boolean(tag) });
      note.onclick = () => { window.focus(); if (onclick) onclick(); note.close(); };
      shown.notification = true;
    }
    return shown;
  }

  document.addEventListener("DOMContentLoaded", () => {
    render();
    $("notify-toggle").addEventListener("click", toggleNotifications);
    $("sound-toggle").addEventListener("change", toggleSound);
    // A stored "sound on" needs a gesture in this page before the browser lets it play.
    document.addEventListener("pointerdown", () => { if (soundOn()) audioContext(); }, { once: true });
  });

  window.HelplineAlerts = Object.freeze({ alertAgent, beep });
})();
