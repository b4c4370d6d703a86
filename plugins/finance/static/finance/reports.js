// Draws a finance report's chart from the JSON the page carries (numbers in major units).
(function () {
  var holder = document.getElementById("finance-chart-data");
  var canvas = document.getElementById("finance-chart");
  if (!holder || !canvas || typeof Chart === "undefined") { return; }
  var spec = JSON.parse(holder.textContent || "null");
  if (!spec) { return; }
  var palette = ["#0b5ed7", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];
  var datasets = spec.datasets.map(function (d, i) {
    var color = palette[i % palette.length];
    return { label: d.label, data: d.data, backgroundColor: color + (spec.type === "line" ? "33" : "cc"),
             borderColor: color, borderWidth: spec.type === "line" ? 2 : 1, fill: spec.type === "line",
             tension: 0.2, pointRadius: spec.labels.length > 60 ? 0 : 3 };
  });
  var lang = document.documentElement.lang || "en";
  new Chart(canvas, {
    type: spec.type === "line" ? "line" : "bar",
    data: { labels: spec.labels, datasets: datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      indexAxis: spec.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: function (ctx) {
          var v = spec.horizontal ? ctx.parsed.x : ctx.parsed.y;
          return ctx.dataset.label + ": " + v.toLocaleString(lang);
        } } }
      },
      scales: { x: { ticks: { autoSkip: true, maxRotation: 0 } }, y: { ticks: { autoSkip: true } } }
    }
  });
})();
