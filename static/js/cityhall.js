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
})();
