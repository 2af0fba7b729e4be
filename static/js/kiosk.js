// Kiosk behaviour that only the browser can do: idle warning, countdowns, press feedback.
// No business logic lives here; the server decides every step.
(function () {
  "use strict";
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  document.addEventListener("gesturestart", function (e) { e.preventDefault(); });

  // visible press feedback within 100 ms, also for keys the keyboard draws
  document.addEventListener("pointerdown", function (e) {
    var b = e.target.closest(".button, .key");
    if (b) { b.classList.add("pressed"); }
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (type) {
    document.addEventListener(type, function () {
      document.querySelectorAll(".pressed").forEach(function (b) { b.classList.remove("pressed"); });
    }, true);
  });

  // --- idle warning: after idle_seconds without a touch, a countdown; then the session resets ---
  var lastTouch = Date.now();
  var warningShownAt = null;
  function screen() { return document.getElementById("screen"); }
  function isCustomerStep() { var s = screen(); return s && s.dataset.customer === "1"; }
  function touched() {
    lastTouch = Date.now();
    if (warningShownAt !== null) { hideWarning(true); }
  }
  ["pointerdown", "keydown", "input"].forEach(function (t) { document.addEventListener(t, touched, true); });

  function csrfHeader() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  // A visit that ends (처음으로, the done screen's own reset) starts a session with a new CSRF token, but
  // htmx swaps #screen only: the body's header would keep the old token, and every request made without
  // a form (the screen's report, the voice, 시간 연장) would be refused. The new screen's forms carry the
  // session's token: the header takes it.
  document.addEventListener("htmx:afterSwap", function () {
    var field = document.querySelector("#screen input[name=csrf_token]");
    if (field && field.value !== csrfHeader()) {
      document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": field.value }));
    }
  });
  function hideWarning(extend) {
    var w = document.getElementById("idle-warning");
    if (w) { w.hidden = true; }
    warningShownAt = null;
    if (extend) {
      var btn = document.getElementById("idle-extend");
      if (btn) {
        fetch(btn.dataset.extendUrl, { method: "POST", headers: { "X-CSRFToken": csrfHeader() }, credentials: "same-origin" });
      }
    }
  }
  function tick() {
    if (!isCustomerStep()) { return; }
    var s = screen();
    var idle = parseInt(s.dataset.idleSeconds || "60", 10) * 1000;
    var warn = parseInt(s.dataset.warningSeconds || "20", 10) * 1000;
    var now = Date.now();
    var w = document.getElementById("idle-warning");
    if (warningShownAt === null && now - lastTouch >= idle && w) {
      warningShownAt = now;
      w.hidden = false;
      var extendButton = document.getElementById("idle-extend");
      if (extendButton) { extendButton.focus(); }
      document.dispatchEvent(new CustomEvent("kiosk:idle-warning"));
    }
    if (warningShownAt !== null) {
      var left = Math.max(0, Math.ceil((warn - (now - warningShownAt)) / 1000));
      var c = document.getElementById("idle-countdown");
      if (c) { c.textContent = String(left); }
      if (left <= 0) {
        warningShownAt = null;
        var form = document.getElementById("idle-reset-form");
        if (form) { form.submit(); }
      }
    }
  }
  setInterval(tick, 250);
  document.addEventListener("click", function (e) {
    if (e.target && e.target.id === "idle-extend") { lastTouch = Date.now(); hideWarning(true); }
  });

  // --- visible countdowns (done screen) ---
  setInterval(function () {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var n = parseInt(el.textContent, 10);
      if (n > 0) { el.textContent = String(n - 1); }
    });
  }, 1000);

  // after htmx swaps a new step, the idle timer starts over and focus goes to the heading
  document.addEventListener("htmx:afterSettle", function () {
    lastTouch = Date.now();
    var h = document.querySelector("#panel h1");
    if (h) { h.setAttribute("tabindex", "-1"); }
  });
})();
