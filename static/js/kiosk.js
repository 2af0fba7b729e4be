// Kiosk behaviour that only the browser can do. No business logic lives here.
(function () {
  "use strict";
  // no context menu, no text selection by long press, no pinch: a kiosk screen is not a web page
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  document.addEventListener("gesturestart", function (e) { e.preventDefault(); });
})();
