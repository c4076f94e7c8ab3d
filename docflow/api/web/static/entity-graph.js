// The entity's neighbourhood, drawn with Cytoscape from the data the page carries: the positions
// come from the server (docflow.ops.lifecycle.layout), which places every dot with its label so
// that no two labels overlap. Grey lines: shared passages (wider: more); coloured lines: typed
// relationships (the legend names them). A click (or Enter on the lists) moves to a neighbour.
// Without JavaScript the lists alone serve.
(function () {
  var holder = document.getElementById("graph");
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  if (!holder || typeof cytoscape === "undefined") { return; }
  var colours = { PERSON: "#2c7a3f", ORG: "#1f5fa8", GPE: "#b35c12", LOC: "#b35c12", FAC: "#7a4fa3" };
  var positions = {};
  data.nodes.forEach(function (n) { positions[n.id] = n.position; });
  var cy = cytoscape({
    container: holder,
    elements: data.nodes.map(function (n) { return { data: n }; })
      .concat(data.edges.map(function (e, i) { return { data: Object.assign({ id: "edge" + i }, e) }; })),
    layout: { name: "preset", positions: positions, fit: true, padding: 20 },
    style: [
      { selector: "node", style: { label: "data(label)", "background-color": function (n) { return colours[n.data("kind")] || "#5b6570"; }, color: "#1d2228", "font-size": 12, "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18 } },
      { selector: "node[?center]", style: { width: 30, height: 30, "font-weight": "bold" } },
      { selector: "edge", style: { width: "data(width)", "line-color": "data(colour)", "curve-style": "bezier", label: "data(label)", "font-size": 10, color: "#5b6570" } },
      { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle", "target-arrow-color": "data(colour)" } }
    ],
    userZoomingEnabled: true
  });
  cy.on("tap", "node", function (event) {
    var href = event.target.data("href");
    if (href && !event.target.data("center")) { window.location.href = href; }
  });
  window.docflowGraph = cy;  // for tests and for the curious
})();
