// The entity's neighbourhood, drawn with Cytoscape from the data the page carries; a click (or
// Enter on the list below) moves to a neighbour. Without JavaScript the list alone serves.
(function () {
  var holder = document.getElementById("graph");
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  if (!holder || typeof cytoscape === "undefined") { return; }
  var colours = { PERSON: "#2c7a3f", ORG: "#1f5fa8", GPE: "#b35c12", LOC: "#b35c12", FAC: "#7a4fa3" };
  var cy = cytoscape({
    container: holder,
    elements: data.nodes.map(function (n) { return { data: n }; })
      .concat(data.edges.map(function (e, i) { return { data: Object.assign({ id: "edge" + i }, e) }; })),
    layout: { name: "concentric", concentric: function (node) { return node.data("center") ? 2 : 1; }, levelWidth: function () { return 1; }, padding: 20 },
    style: [
      { selector: "node", style: { label: "data(label)", "background-color": function (n) { return colours[n.data("kind")] || "#5b6570"; }, color: "#1d2228", "font-size": 12, "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18 } },
      { selector: "node[?center]", style: { width: 30, height: 30, "font-weight": "bold" } },
      { selector: "edge", style: { width: "data(width)", "line-color": "#9aa7b4", "curve-style": "bezier", label: "data(weight)", "font-size": 10, color: "#5b6570" } }
    ],
    userZoomingEnabled: true
  });
  cy.on("tap", "node", function (event) {
    var href = event.target.data("href");
    if (href && !event.target.data("center")) { window.location.href = href; }
  });
  window.docflowGraph = cy;  // for tests and for the curious
})();
