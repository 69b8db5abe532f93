// The public map of open reports. The list below the map has the same reports without JavaScript.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("requests-map");
    if (!element || !window.L) return;
    element.hidden = false;
    var map = window.cityMap(element).setView([36.405, -121.300], 13);
    fetch(element.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        data.requests.forEach(function (r) {
          var link = document.createElement("a");
          link.href = r.url;
          link.textContent = r.category + " (" + r.status + ")";
          L.circleMarker([r.lat, r.lon], { radius: 6 }).bindPopup(link).addTo(map);
        });
      });
  });
})();
