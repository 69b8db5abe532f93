// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Error summary: move focus to it so screen-reader and keyboard users hear the problems first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });

  // Printing: open every section that prints (collapsed on screen), then close them again.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details[data-print-open]:not([open])").forEach(function (el) {
      el.setAttribute("open", "");
      el.setAttribute("data-print-opened", "");
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print-opened]").forEach(function (el) {
      el.removeAttribute("open");
      el.removeAttribute("data-print-opened");
    });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
