// Accessibility that only the browser can do: a physical keypad's arrow keys and Enter, and spoken
// guidance. The modes themselves are server-side (session["a11y"], classes on <html>, kiosk/web/base.py).
(function () {
  "use strict";
  var html = document.documentElement;

  // --- physical keypad: arrows move between controls in document order, Enter activates ---
  var CONTROLS = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), " +
    "textarea:not([disabled]), [tabindex='0']";

  function visible(el) {
    if (el.closest("[hidden]") || el.closest("[inert]")) { return false; }
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function scope() {
    // a modal (the idle warning) keeps the keypad inside it
    var modal = document.querySelector(".overlay:not([hidden])");
    return modal || document.getElementById("screen") || document.body;
  }
  function controls() {
    return Array.prototype.filter.call(scope().querySelectorAll(CONTROLS), function (el) {
      return visible(el) && !el.closest("#osk-host");
    });
  }
  // where `el` sits among the controls, even when `el` is not one of them (a heading that has focus)
  function neighbour(el, step) {
    var list = controls();
    if (!list.length) { return null; }
    var i = list.indexOf(el);
    if (i < 0) {
      var after = list.findIndex(function (c) { return el.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING; });
      if (after < 0) { after = list.length; }
      i = step > 0 ? after - 1 : after;
    }
    return list[(i + step + list.length) % list.length];   // wraps around: no dead end for a blind user
  }

  // inside the on-screen keyboard the arrows move on its grid: left/right along a row, up/down to the
  // key nearest in the next row; up from the first row goes back to the field
  function keyGrid(key, direction) {
    var rows = Array.prototype.map.call(document.querySelectorAll("#osk-host .osk-row"), function (r) {
      return Array.prototype.slice.call(r.querySelectorAll("button.key"));
    }).filter(function (r) { return r.length; });
    var ri = rows.findIndex(function (r) { return r.indexOf(key) >= 0; });
    var ki = rows[ri].indexOf(key);
    if (direction === "ArrowLeft") { return rows[ri][(ki - 1 + rows[ri].length) % rows[ri].length]; }
    if (direction === "ArrowRight") { return rows[ri][(ki + 1) % rows[ri].length]; }
    var target = direction === "ArrowUp" ? ri - 1 : ri + 1;
    if (target < 0) { return window.kioskKeyboard.state.input; }
    if (target >= rows.length) { return null; }
    var box = key.getBoundingClientRect(), x = box.left + box.width / 2;
    return rows[target].reduce(function (best, k) {
      var b = k.getBoundingClientRect();
      var bb = best.getBoundingClientRect();
      return Math.abs(b.left + b.width / 2 - x) < Math.abs(bb.left + bb.width / 2 - x) ? k : best;
    });
  }

  document.addEventListener("keydown", function (e) {
    var el = document.activeElement || document.body;
    var arrows = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"];
    if (arrows.indexOf(e.key) >= 0) {
      var next;
      if (el.matches(".key")) {
        next = keyGrid(el, e.key);
      } else if (el.matches("input[data-keyboard]") && e.key === "ArrowDown" && document.querySelector("#osk-host .key")) {
        next = document.querySelector("#osk-host button.key");
      } else {
        next = neighbour(el, e.key === "ArrowUp" || e.key === "ArrowLeft" ? -1 : 1);
      }
      if (next) { e.preventDefault(); next.focus(); }
      return;
    }
    if (e.key === "Enter") {
      if (el.matches("input[type=checkbox], input[type=radio]")) { e.preventDefault(); el.click(); return; }
      if (el.matches("input[data-keyboard]")) {
        // Enter on a field opens its keyboard and goes to its first key (never an implicit submit)
        e.preventDefault();
        window.kioskKeyboard.open(el);
        var first = document.querySelector("#osk-host button.key");
        if (first) { first.focus(); }
      }
    }
    if (e.key === "Escape" && el.matches(".key") && window.kioskKeyboard.state.input) {
      e.preventDefault();
      window.kioskKeyboard.state.input.focus();
    }
  });

  // --- modes live on <html>, which an htmx swap of #screen leaves alone: the new #screen carries them ---
  // (start over, the done screen's reset and staff resets come back with default modes); afterSwap runs
  // in the same task as the swap, so no frame is painted in between
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "screen") { return; }
    var s = document.getElementById("screen");
    if (!s || s.dataset.modes === undefined) { return; }
    html.className = s.dataset.modes;
    if (s.dataset.lang) { html.lang = s.dataset.lang; }
  });

  // --- spoken guidance: the step's heading, hint and message when it appears (speech mode only) ---
  // The kiosk's own voice first: POST /speech (kiosk/speech.py, espeak-ng) returns a WAV that an <audio>
  // element plays; the rate and volume below reach the engine as they are. Without it (no espeak-ng on
  // the machine: <html data-speech-url="">) the browser's speechSynthesis, where it has a voice.
  // `voice` is what the customer set with the settings bar's speed and volume controls (rate 1 = normal,
  // volume 1 = the engine's default): #screen carries it, from the visit's session, so a new visit
  // starts from the middle steps again (kiosk/speech.py RATE_STEPS, VOLUME_STEPS).
  var voice = { rate: 0.95, volume: 1 };
  function readVoice() {
    var s = document.getElementById("screen");
    var rate = s ? parseFloat(s.getAttribute("data-voice-rate")) : NaN;
    var volume = s ? parseFloat(s.getAttribute("data-voice-volume")) : NaN;
    if (rate > 0) { voice.rate = rate; }
    if (volume >= 0) { voice.volume = volume; }
  }
  var speechUrl = html.getAttribute("data-speech-url") || "";
  var hasBrowserSpeech = "speechSynthesis" in window && typeof window.SpeechSynthesisUtterance === "function";
  var hasSpeech = !!speechUrl || hasBrowserSpeech;
  var player = null;
  var spoken = 0;   // the newest request wins: an older reply arriving late is not played

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function stopSpeaking() {
    spoken += 1;
    if (player) { player.pause(); }
    if (hasBrowserSpeech) { window.speechSynthesis.cancel(); }
  }
  function speakWithBrowser(text, lang) {
    if (!hasBrowserSpeech) { return; }
    var u = new SpeechSynthesisUtterance(text);
    u.lang = lang;
    u.rate = voice.rate;
    u.volume = Math.min(1, voice.volume);   // the browser's voice stops at 1
    window.speechSynthesis.speak(u);
  }
  function speakWithKiosk(text, lang) {
    var mine = spoken;
    var body = new URLSearchParams({ text: text, lang: lang, rate: String(voice.rate), volume: String(voice.volume) });
    fetch(speechUrl, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then(function (r) { return r.ok ? r.blob() : Promise.reject(r.status); })
      .then(function (wav) {
        if (mine !== spoken) { return; }
        if (!player) { player = new Audio(); }
        if (player.src) { URL.revokeObjectURL(player.src); }
        player.src = URL.createObjectURL(wav);
        return player.play();
      })
      .catch(function () { if (mine === spoken) { speakWithBrowser(text, lang); } });
  }

  function speak(text, isStep) {
    if (!html.classList.contains("speech") || !text) { return; }
    var s = document.getElementById("screen");
    if (s && isStep) { s.dataset.spoken = text; }   // the step's guidance, for tests and staff checks
    if (!hasSpeech) { return; }
    stopSpeaking();
    var lang = html.lang === "en" ? "en-US" : "ko-KR";
    if (speechUrl) { speakWithKiosk(text, lang); } else { speakWithBrowser(text, lang); }
  }
  function textOf(sel) {
    return Array.prototype.map.call(document.querySelectorAll(sel), function (el) {
      return visible(el) ? el.innerText.trim() : "";
    }).filter(Boolean);
  }
  // a picture is said by its text alternative (its aria-label, or the <title> it is labelled by)
  function pictureTexts() {
    return Array.prototype.map.call(document.querySelectorAll("#panel [role=img]"), function (el) {
      if (!visible(el)) { return ""; }
      var title = document.getElementById(el.getAttribute("aria-labelledby") || "");
      return (el.getAttribute("aria-label") || (title ? title.textContent : "")).trim();
    }).filter(Boolean);
  }
  function guidance() {
    // a result screen says its result: each certificate's status, validity and days left (issue 26)
    var parts = textOf("#panel h1")
      .concat(textOf("#panel .attract-sub, #panel .hint, #panel .message, #panel .field-error"))
      .concat(textOf("#panel [data-spoken-result]").map(function (t) { return t.replace(/\s*\n\s*/g, ", "); }))
      .concat(pictureTexts());
    return parts.join(". ").replace(/\.\s*\./g, ".");
  }
  function nameOf(el) {
    if (el.getAttribute("aria-label")) { return el.getAttribute("aria-label"); }
    if (el.labels && el.labels.length) { return el.labels[0].innerText.trim(); }
    return (el.innerText || el.value || "").trim();
  }
  function announceStep() { speak(guidance(), true); }

  // "where the kiosk has audio": the voice guidance switch only shows where the browser can speak
  function hideSpeechToggleWithoutAudio() {
    var toggle = document.getElementById("mode-speech");
    if (toggle && !hasSpeech) { toggle.hidden = true; }
  }

  document.addEventListener("DOMContentLoaded", function () { readVoice(); hideSpeechToggleWithoutAudio(); announceStep(); });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail.target || e.detail.target.id !== "screen") { return; }
    readVoice();
    hideSpeechToggleWithoutAudio();
    var h = document.querySelector("#panel h1");
    if (h) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: true }); }  // keypad users start here
    announceStep();
  });
  // the idle warning is spoken too: more time is one key away
  document.addEventListener("kiosk:idle-warning", function () {
    var box = document.getElementById("idle-warning");
    if (box) { speak(box.innerText.replace(/\s+/g, " ").trim(), true); }
  });
  document.addEventListener("focusin", function (e) {
    var el = e.target;
    if (el.matches && el.matches("button, input, select, a[href]") && !el.closest(".overlay")) { speak(nameOf(el)); }
    // a certificate card the keypad reached says what it shows
    else if (el.matches && el.matches(".certificate-card[tabindex]")) { speak(el.innerText.replace(/\s*\n\s*/g, ", ")); }
  });
  document.addEventListener("kiosk:typed", function (e) {
    // a secret (PIN, password) is never spoken: only that something was typed
    speak(e.detail.text === null ? document.body.getAttribute("data-kb-typed") : (e.detail.text === " " ? document.body.getAttribute("data-kb-space") : e.detail.text));
  });
  window.kioskSpeech = { guidance: guidance, speak: speak, stop: stopSpeaking, voice: voice };
})();
