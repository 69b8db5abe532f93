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

  // A form that must be sent once (paying): a second click while the first is on its way does
  // nothing. The server makes a repeat harmless anyway (the form's idempotency key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-once]")) {
      return;
    }
    if (form.hasAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  });
})();
