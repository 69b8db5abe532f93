// Shared by every public map: the background tiles named in settings (if any), and the city's
// own neighborhoods drawn from our server on top, so the map shows the city even when no tile
// server answers. window.cityMap(element, options) returns the Leaflet map.
(function () {
  "use strict";
  window.cityMap = function (element, options) {
    var map = L.map(element, options || {});
    element.classList.add("cityhall-map--drawn");
    if (element.dataset.tiles) {
      var tiles = L.tileLayer(element.dataset.tiles, {
        maxZoom: 19, attribution: element.dataset.attribution || ""
      });
      tiles.on("tileerror", function () { element.classList.add("cityhall-map--no-tiles"); });
      tiles.addTo(map);
    }
    fetch(element.dataset.areas, { headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: { color: "#1a4480", weight: 2, fillColor: "#d9e8f6", fillOpacity: 0.35 },
          interactive: false  // clicks go to the map (choosing a place), not to the shapes
        }).addTo(map);
        layer.bringToBack();
        if (!options || !options.keepView) {
          var bounds = layer.getBounds();
          if (bounds.isValid()) { map.fitBounds(bounds); }
        }
      })
      .catch(function () { /* the markers and the list still work */ });
    return map;
  };
})();
