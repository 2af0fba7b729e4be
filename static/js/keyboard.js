// On-screen keyboards: the kiosk has no system keyboard, so every text field is typed here.
// An input says which keyboard it wants with data-keyboard="hangul|qwerty|numeric|secure-numeric"
// (kiosk/web/base.py keyboard_attrs). The keyboard is drawn into #osk-host, inside #screen, so an htmx swap of
// the step removes it with the step. Hangul composition is Hangul.js's (static/vendor/hangul-js), not ours.
// The secure keypad's digit order comes from the server (data-keypad-layout), new on every rendering.
(function () {
  "use strict";

  var HANGUL_ROWS = [
    ["ㅂ", "ㅈ", "ㄷ", "ㄱ", "ㅅ", "ㅛ", "ㅕ", "ㅑ", "ㅐ", "ㅔ"],
    ["ㅁ", "ㄴ", "ㅇ", "ㄹ", "ㅎ", "ㅗ", "ㅓ", "ㅏ", "ㅣ"],
    ["ㅋ", "ㅌ", "ㅊ", "ㅍ", "ㅠ", "ㅜ", "ㅡ"]
  ];
  var HANGUL_SHIFT = { "ㅂ": "ㅃ", "ㅈ": "ㅉ", "ㄷ": "ㄸ", "ㄱ": "ㄲ", "ㅅ": "ㅆ", "ㅐ": "ㅒ", "ㅔ": "ㅖ" };
  var LATIN_ROWS = [
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
    ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
    ["a", "s", "d", "f", "g", "h", "j", "k", "l"],
    ["z", "x", "c", "v", "b", "n", "m"]
  ];
  // certificate passwords need special characters; ' " \ | are refused by the password rules (NPKI.md),
  // so the keyboard does not offer them
  var SYMBOL_ROWS = [
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
    ["!", "@", "#", "$", "%", "^", "&", "*", "(", ")"],
    ["-", "_", "=", "+", "[", "]", "{", "}", ";"],
    [":", ",", ".", "?", "/", "~", "<", ">"]
  ];
  var NUMERIC_ORDER = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", ""];

  var state = { input: null, kind: null, page: null, shift: false, auto: false };

  function label(name) { return document.body.getAttribute("data-kb-" + name) || name; }
  function host() { return document.getElementById("osk-host"); }
  function isJamo(ch) { return /^[\u3131-\u318e]$/.test(ch); }
  function isHangul(ch) { return /^[\u3131-\u318e\uac00-\ud7a3]$/.test(ch); }
  function secret(input) { return input.type === "password" || input.dataset.keyboard === "secure-numeric"; }

  // --- editing: composition happens on the last syllable only, the earlier ones are committed ---
  function composed(value, jamo) {
    var last = value.slice(-1);
    if (!isHangul(last)) { return value + jamo; }
    return value.slice(0, -1) + Hangul.assemble(Hangul.disassemble(last).concat([jamo]));
  }
  function backspaced(value) {
    var last = value.slice(-1);
    if (state.kind === "hangul" && isHangul(last)) {
      var jamo = Hangul.disassemble(last);   // 와 -> ㅇㅗㅏ, 닭 -> ㄷㅏㄹㄱ: one jamo at a time
      jamo.pop();
      return value.slice(0, -1) + Hangul.assemble(jamo);
    }
    return value.slice(0, -1);
  }
  function setValue(value) {
    var input = state.input;
    var max = input.maxLength > 0 ? input.maxLength : Infinity;
    if (value.length > max) { return false; }
    input.value = value;
    // htmx (the live password rules) and the idle timer listen for input events
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }
  function type(ch) {
    var input = state.input;
    var next = (state.kind === "hangul" && state.page === "hangul" && isJamo(ch))
      ? composed(input.value, ch) : input.value + ch;
    if (setValue(next)) {
      document.dispatchEvent(new CustomEvent("kiosk:typed", { detail: { text: secret(input) ? null : ch } }));
    }
    if (state.shift) { state.shift = false; draw(); }
    if (complete(input)) { done(); }
  }
  // A field of a fixed length (a PIN, the e-mail code, the parts of a resident number, a date) is done
  // when its last digit is typed (data-complete="N"); a confirmation (data-same-as="id") when it is the
  // same as the field it confirms. Either moves on as 입력 완료 would: to the next field, or it submits.
  function complete(input) {
    var length = parseInt(input.dataset.complete || "0", 10);
    if (length && input.value.length === length) { return true; }
    var original = input.dataset.sameAs && document.getElementById(input.dataset.sameAs);
    return !!(original && original.value && input.value === original.value);
  }

  // --- drawing ---
  function key(text, action, value, extra) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "key" + (extra && extra.cls ? " " + extra.cls : "");
    b.tabIndex = -1;              // reached with the arrow keys (a11y.js), not in the Tab order
    b.dataset.action = action;
    if (value !== undefined) { b.dataset.value = value; }
    b.textContent = text;
    if (extra && extra.aria) { b.setAttribute("aria-label", extra.aria); }
    if (extra && extra.pressed !== undefined) { b.setAttribute("aria-pressed", extra.pressed ? "true" : "false"); }
    return b;
  }
  function blank() {
    var s = document.createElement("span");
    s.className = "key blank";
    s.setAttribute("aria-hidden", "true");
    return s;
  }
  function row(keys, cls) {
    var r = document.createElement("div");
    r.className = "osk-row" + (cls ? " " + cls : "");
    keys.forEach(function (k) { r.appendChild(k); });
    return r;
  }
  function charKeys(chars) {
    return chars.map(function (c) {
      var shown = c;
      if (state.shift) { shown = state.page === "hangul" ? (HANGUL_SHIFT[c] || c) : c.toUpperCase(); }
      return key(shown, "type", shown);
    });
  }
  function shiftKey() {
    return key("⇧", "shift", undefined, { cls: "wide", aria: label("shift"), pressed: state.shift });
  }
  function backKey() { return key("⌫", "backspace", undefined, { cls: "wide", aria: label("backspace") }); }
  function doneKey() { return key(label("done"), "done", undefined, { cls: "wide done" }); }

  function rowsFor() {
    var rows = [];
    if (state.kind === "numeric" || state.kind === "secure-numeric") {
      var order = NUMERIC_ORDER;
      if (state.kind === "secure-numeric") { order = (state.input.dataset.keypadLayout || "").split(","); }
      for (var i = 0; i < order.length; i += 3) {
        rows.push(row(order.slice(i, i + 3).map(function (d) { return d === "" ? blank() : key(d, "type", d); }),
          "osk-digits"));
      }
      rows.push(row([key(label("clear"), "clear", undefined, { cls: "wide" }), backKey(), doneKey()]));
      return rows;
    }
    if (state.page === "hangul") {
      rows.push(row(charKeys(HANGUL_ROWS[0])));
      rows.push(row(charKeys(HANGUL_ROWS[1])));
      rows.push(row([shiftKey()].concat(charKeys(HANGUL_ROWS[2]), [backKey()])));
      rows.push(row([key(label("letters"), "page", "latin", { cls: "wide" }), key(label("space"), "type", " ", { cls: "space" }), doneKey()]));
      return rows;
    }
    var src = state.page === "symbols" ? SYMBOL_ROWS : LATIN_ROWS;
    rows.push(row(charKeys(src[0])));
    rows.push(row(charKeys(src[1])));
    rows.push(row(charKeys(src[2])));
    rows.push(row([shiftKey()].concat(charKeys(src[3]), [backKey()])));
    var bottom = [];
    if (state.kind === "hangul") { bottom.push(key(label("hangul"), "page", "hangul", { cls: "wide" })); }
    bottom.push(state.page === "symbols"
      ? key(label("letters"), "page", "latin", { cls: "wide" })
      : key(label("symbols"), "page", "symbols", { cls: "wide" }));
    if (state.kind === "hangul") { bottom.push(key(label("space"), "type", " ", { cls: "space" })); }
    bottom.push(doneKey());
    rows.push(row(bottom));
    return rows;
  }

  function draw() {
    var h = host();
    if (!h || !state.input) { return; }
    var focusedAction = null, focusedValue = null;
    if (h.contains(document.activeElement)) {
      focusedAction = document.activeElement.dataset.action;
      focusedValue = document.activeElement.dataset.value;
    }
    var kb = document.createElement("div");
    kb.className = "osk osk-" + state.kind + " osk-page-" + state.page;
    kb.setAttribute("role", "group");
    kb.setAttribute("aria-label", label(state.kind === "secure-numeric" ? "keypad" : "keyboard"));
    kb.dataset.for = state.input.id;
    rowsFor().forEach(function (r) { kb.appendChild(r); });
    h.replaceChildren(kb);
    // a keyboard the customer opened covers the settings; one opened with the step leaves them in reach
    // (language, large text... are what a customer may want first on a new screen)
    document.documentElement.classList.toggle("keyboard-open", !state.auto);
    if (focusedAction) {   // a physical keypad user stays on the key they pressed (shift, page)
      var again = kb.querySelector('.key[data-action="' + focusedAction + '"]' +
        (focusedAction === "page" ? "" : (focusedValue ? '[data-value="' + CSS.escape(focusedValue) + '"]' : "")));
      if (again) { again.focus(); }
    }
  }

  var carryAuto = false;         // 입력 완료 moving on keeps the layout the keyboard had (no jump)
  function open(input, auto) {
    auto = auto || carryAuto;
    closeAfterTouch = false;      // a tap that moved focus elsewhere opened this one: it stays open
    if (state.input === input && host() && host().firstChild) {
      if (!auto && state.auto) { state.auto = false; draw(); }
      return;
    }
    state.auto = !!auto;
    state.input = input;
    state.kind = input.dataset.keyboard;
    state.page = state.kind === "hangul" ? "hangul" : "latin";
    state.shift = false;
    draw();
    // the field just above the keyboard, what it is for (its label, the chosen certificate) above it
    input.scrollIntoView({ block: "end" });
    document.dispatchEvent(new CustomEvent("kiosk:keyboard-open", { detail: { input: input } }));
  }
  function close() {
    var h = host();
    if (h) { h.replaceChildren(); }
    state.input = null;
    document.documentElement.classList.remove("keyboard-open");
  }

  // the control after the input in its form: the next field gets its keyboard; the form's submit button
  // is pressed (one tap less than 입력 완료 then 확인); any other control gets focus
  function done() {
    var input = state.input;
    var controls = Array.prototype.filter.call(
      (input.form || document).querySelectorAll("input:not([type=hidden]), select, button, textarea"),
      function (el) { return !el.disabled && el.offsetParent !== null; });
    var next = controls[controls.indexOf(input) + 1];
    if (next && next.dataset.keyboard) { carryAuto = state.auto; next.focus(); carryAuto = false; return; }
    close();
    if (next && next.type === "submit" && input.form && next.form === input.form) {
      input.form.requestSubmit(next);
      return;
    }
    if (next) { next.focus(); } else { input.blur(); }
  }

  // A step whose first thing to do is typing opens that field's keyboard as it appears (data-autoopen),
  // without a tap on the field; focus stays where a11y.js puts it (the heading, for keypad users and
  // voice guidance). Choosing a radio card in such a form (an account, a certificate) opens it again.
  function autoOpen(scope) {
    var fields = Array.prototype.filter.call((scope || document).querySelectorAll("input[data-keyboard][data-autoopen]"),
      function (el) { return !el.disabled && !el.value && el.offsetParent !== null; });
    if (fields.length) { open(fields[0], true); }
  }

  function act(b) {
    if (!state.input) { return; }
    switch (b.dataset.action) {
      case "type": type(b.dataset.value); break;
      case "backspace": setValue(backspaced(state.input.value)); break;
      case "clear": setValue(""); break;
      case "shift": state.shift = !state.shift; draw(); break;
      case "page": state.page = b.dataset.value; state.shift = false; draw(); break;
      case "done": done(); break;
    }
  }

  // keys never take focus from the field when touched (the field keeps its focus ring and the caret);
  // a physical keypad can still focus them with the arrow keys (a11y.js)
  ["pointerdown", "mousedown"].forEach(function (t) {
    document.addEventListener(t, function (e) {
      if (e.target.closest && e.target.closest("#osk-host .key")) { e.preventDefault(); }
    });
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("#osk-host button.key");
    if (b) { act(b); return; }
    var input = e.target.closest && e.target.closest("input[data-keyboard]");
    if (input) { open(input); }
  });
  // Focus leaving for another control closes the keyboard. When a finger did it, the keyboard waits for
  // the click to land: closing it at focus time would move the button away from under the finger.
  var touching = false, closeAfterTouch = false;
  document.addEventListener("pointerdown", function () { touching = true; }, true);
  ["pointerup", "pointercancel"].forEach(function (t) {
    document.addEventListener(t, function () {
      setTimeout(function () {
        touching = false;
        if (closeAfterTouch) { closeAfterTouch = false; if (!isKeyboardFocus()) { close(); } }
      }, 50);
    }, true);
  });
  function isKeyboardFocus() {
    var a = document.activeElement;
    return a && ((a.matches && a.matches("input[data-keyboard]")) || (host() && host().contains(a)));
  }
  document.addEventListener("focusin", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[data-keyboard]")) { closeAfterTouch = false; open(t); return; }
    if (host() && host().contains(t)) { return; }
    if (!state.input) { return; }
    // the heading a step's swap focuses (a11y.js) is no control: the keyboard opened for the step stays
    if (!(t.matches && t.matches("input, select, button, textarea, a[href]"))) { return; }
    if (touching) { closeAfterTouch = true; } else { close(); }
  });
  // a new step (htmx swap) brings a new, empty #osk-host
  // (the live password rules are swapped too, while the customer types: those keep the keyboard)
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "screen") { close(); }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "screen") { autoOpen(document.getElementById("screen")); }
  });
  document.addEventListener("DOMContentLoaded", function () { autoOpen(document); });
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[type=radio]") && t.form) { autoOpen(t.form); }
  });

  window.kioskKeyboard = { open: open, close: close, state: state, autoOpen: autoOpen };
})();
