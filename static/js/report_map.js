// Report a problem: a map to pick the place, and "use my location". The form works without it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var tools = document.querySelector("[data-map-tools]");
    var lat = document.getElementById("id_latitude");
    var lon = document.getElementById("id_longitude");
    var address = document.getElementById("id_address");
    var choice = document.getElementById("map-choice");
    if (!tools || !lat || !lon) return;

    document.addEventListener("change", function (event) {
      var radio = event.target;
      if (radio.name === "address_choice") {
        address.value = radio.value;
        lat.value = radio.dataset.lat;
        lon.value = radio.dataset.lon;
      }
    });
    address.addEventListener("input", function () { lat.value = ""; lon.value = ""; });

    if (!window.L) return;
    tools.hidden = false;
    var element = document.getElementById("report-map");
    var start = lat.value ? [parseFloat(lat.value), parseFloat(lon.value)] : [36.405, -121.300];
    var map = window.cityMap(element, { keyboard: true, keepView: !!lat.value }).setView(start, 14);
    var marker = null;
    function choose(latlng, label) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, { alt: element.dataset.markerLabel || "", keyboard: false }).addTo(map); }
      choice.textContent = label || (lat.value + ", " + lon.value);
    }
    if (lat.value) choose({ lat: start[0], lng: start[1] });
    // A point on the map becomes words: "Near 1034 Oak Street" replaces whatever was typed.
    function pick(latlng) {
      choose(latlng);
      address.value = "";
      fetch(element.dataset.nearest + "?lat=" + lat.value + "&lon=" + lon.value,
            { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.label) {
            address.value = data.label;
            choice.textContent = data.label;
          }
        })
        .catch(function () { /* the point alone is enough */ });
    }
    map.on("click", function (e) { pick(e.latlng); });
    element.addEventListener("keydown", function (e) { if (e.key === "Enter") { pick(map.getCenter()); } });
    var mine = document.querySelector("[data-use-my-location]");
    if (mine && navigator.geolocation) {
      mine.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (position) {
          var here = { lat: position.coords.latitude, lng: position.coords.longitude };
          map.setView(here, 17);
          pick(here);
        });
      });
    } else if (mine) { mine.hidden = true; }
  });
})();
