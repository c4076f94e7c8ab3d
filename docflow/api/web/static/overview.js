// Small charts of the monitor's figures (Chart.js, served by docflow itself). The tables on the
// page carry the same numbers for readers without JavaScript.
(function () {
  if (typeof Chart === "undefined") { return; }
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  function bar(id, values, colour) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    window.docflowCharts = window.docflowCharts || {};
    window.docflowCharts[id] = new Chart(canvas, {
      type: "bar",
      data: { labels: Object.keys(values), datasets: [{ data: Object.values(values), backgroundColor: colour }] },
      options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    });
  }
  bar("status-chart", data.statuses, "#1f5fa8");
  bar("queue-chart", data.queues, "#b35c12");
  bar("latency-chart", data.latency, "#2c7a3f");
})();
