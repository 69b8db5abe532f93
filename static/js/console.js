// The console after an action made in the background (htmx, the record page's action bar): the
// main area was replaced, so move focus there, where the message about the action now is, for
// keyboard and screen-reader users.
document.addEventListener("htmx:afterSettle", function (event) {
  var config = event.detail.requestConfig;
  var from = config && config.elt;
  if (from && from.closest && from.closest(".alert-workflow__actions, .console-background")) {
    var main = document.getElementById("content-start");
    if (main) {
      main.focus();
    }
  }
});
