// Draws the CSAT chart from the JSON the page embeds (labels, csat %, answers per period).
(function () {
  var holder = document.getElementById("csat-data");
  var canvas = document.getElementById("csat-chart");
  if (!holder || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "line", label: data.csat_label, data: data.csat, yAxisID: "y", borderColor: "#2e9e5b",
          backgroundColor: "#2e9e5b", spanGaps: true, tension: 0.2 },
        { type: "bar", label: data.responses_label, data: data.responses, yAxisID: "y1", backgroundColor: "rgba(91,155,213,.35)" }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: {
        y: { min: 0, max: 100, position: "left", ticks: { callback: function (v) { return v + "%"; } } },
        y1: { min: 0, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } }
      }
    }
  });
})();
