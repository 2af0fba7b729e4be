// The identity step's camera (issue 25), which only the browser can run: the live picture, the moment a
// card is steady inside the frame, the capture posted as a JPEG body. The server renders every screen
// (templates/customer/identity_camera.html): this script swaps in what it answers, and sends the
// 직접 입력 form by itself when there is no camera or it is refused. Nothing of a picture is kept here:
// the canvases are emptied after each capture, the camera is stopped when the screen changes.
(function () {
  "use strict";
  var TICK_MS = 200;            // how often a small grey copy of the frame is compared with the last
  var SMALL_W = 64, SMALL_H = 36;
  var MOVED = 10;               // mean change (0-255) that counts as the card being moved in or out
  var STILL = 3;                // mean change below which the picture is still
  var DETAIL = 5;               // mean edge strength inside the frame: a card's print, not a bare ledge
  var STILL_TICKS = 5;          // still for about a second: take the picture

  var stream = null, timer = null, previous = null, armed = true, still = 0, busy = false;

  function box() { return document.getElementById("camera"); }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function status(name) {
    var b = box();
    if (!b) { return; }
    b.querySelectorAll("[data-status]").forEach(function (s) { s.hidden = s.dataset.status !== name; });
    b.classList.toggle("steady", name === "steady");
  }
  function toKeyboard(reason) {
    var form = document.getElementById("identity-keyboard-form");
    var field = document.getElementById("identity-keyboard-reason");
    if (!form || !field) { return; }
    field.value = reason;
    form.requestSubmit();
  }
  function stop() {
    if (timer) { clearInterval(timer); }
    timer = null;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    previous = null;
  }

  function start() {
    // the keyboard form's way back to the camera shows only where the browser has one to offer
    document.querySelectorAll(".camera-only").forEach(function (el) {
      el.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    });
    var b = box();
    if (!b || stream) { return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { toKeyboard("no_camera"); return; }
    armed = b.dataset.rearm !== "1";      // after a failed read: only once the card was moved
    still = 0;
    navigator.mediaDevices.getUserMedia({ audio: false, video: { width: { ideal: 1920 }, height: { ideal: 1080 } } })
      .then(function (s) {
        var video = document.getElementById("camera-preview");
        if (!video) { s.getTracks().forEach(function (t) { t.stop(); }); return; }   // the step moved on
        stream = s;
        video.srcObject = s;
        var playing = video.play();
        if (playing && playing.catch) { playing.catch(function () {}); }
        document.getElementById("camera-shoot").disabled = false;
        status("looking");
        timer = setInterval(tick, TICK_MS);
      })
      .catch(function (e) {
        var name = e && e.name;
        toKeyboard(name === "NotAllowedError" || name === "SecurityError" ? "refused"
          : (name === "NotFoundError" || name === "OverconstrainedError" ? "no_camera" : "camera_failed"));
      });
  }

  // grey levels of the part of the frame inside the card-shaped frame (the middle 70 % x 62 %)
  var small = document.createElement("canvas");
  small.width = SMALL_W; small.height = SMALL_H;
  function greys(video) {
    var ctx = small.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, SMALL_W, SMALL_H);
    var data = ctx.getImageData(0, 0, SMALL_W, SMALL_H).data;
    var x0 = Math.round(SMALL_W * 0.15), x1 = Math.round(SMALL_W * 0.85);
    var y0 = Math.round(SMALL_H * 0.19), y1 = Math.round(SMALL_H * 0.81);
    var out = [];
    for (var y = y0; y < y1; y++) {
      for (var x = x0; x < x1; x++) {
        var i = (y * SMALL_W + x) * 4;
        out.push((data[i] * 3 + data[i + 1] * 6 + data[i + 2]) / 10);
      }
    }
    out.width = x1 - x0;
    return out;
  }
  function meanChange(a, b) {
    var sum = 0;
    for (var i = 0; i < a.length; i++) { sum += Math.abs(a[i] - b[i]); }
    return sum / a.length;
  }
  function detail(a) {
    var sum = 0, n = 0;
    for (var i = 1; i < a.length; i++) {
      if (i % a.width) { sum += Math.abs(a[i] - a[i - 1]); n++; }
    }
    return n ? sum / n : 0;
  }

  function tick() {
    var video = document.getElementById("camera-preview");
    if (!video || busy || video.readyState < 2) { return; }
    var now = greys(video);
    if (previous) {
      var change = meanChange(now, previous);
      if (change > MOVED) { armed = true; still = 0; }
      if (armed && change < STILL && detail(now) > DETAIL) {
        still++;
        status("steady");
        if (still >= STILL_TICKS) { capture(); }
      } else if (!busy) {
        still = 0;
        status("looking");
      }
    }
    previous = now;
  }

  function capture() {
    var video = document.getElementById("camera-preview"), b = box();
    if (busy || !video || !b || !video.videoWidth) { return; }
    busy = true;
    armed = false;
    still = 0;
    status("reading");
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    var limit = parseInt(b.dataset.maxBytes || "0", 10);
    canvas.toBlob(function (blob) {
      canvas.width = canvas.height = 0;     // the picture leaves the page's memory with the request
      if (!blob || (limit && blob.size > limit)) { busy = false; toKeyboard("camera_failed"); return; }
      send(b.dataset.captureUrl, blob);
    }, "image/jpeg", 0.9);
  }

  function send(url, blob) {
    fetch(url, {
      method: "POST", body: blob, credentials: "same-origin",
      headers: { "Content-Type": "image/jpeg", "X-CSRFToken": csrf(), "HX-Request": "true", "HX-Target": "screen",
                 "HX-Current-URL": location.href }
    }).then(function (response) {
      return response.text().then(function (html) {
        busy = false;
        var screen = document.getElementById("screen");
        if (!screen || !box()) { return; }
        if (html.indexOf('id="screen"') < 0) { toKeyboard("camera_failed"); return; }   // not a screen
        stop();
        htmx.swap(screen, html, { swapStyle: "outerHTML" }, { eventInfo: { target: screen } });
      });
    }).catch(function () { busy = false; toKeyboard("camera_failed"); });
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#camera-shoot")) { capture(); }
  });
  // a new screen: the camera stops with the old one, and starts again if the new one has it
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "screen") { stop(); }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "screen") { start(); }
  });
  document.addEventListener("DOMContentLoaded", start);
  window.addEventListener("pagehide", stop);
})();
