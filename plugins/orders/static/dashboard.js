// Bar chart of the "Today's orders" dashboard card (Chart.js is vendored by the core).
(function () {
  if (!window.Chart) { return; }
  document.querySelectorAll("canvas.erp-orders-chart").forEach(function (canvas) {
    if (canvas.dataset.drawn) { return; }
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: JSON.parse(canvas.dataset.labels || "[]"),
        datasets: [{ label: canvas.dataset.label, data: JSON.parse(canvas.dataset.values || "[]"),
                     backgroundColor: "rgba(11, 94, 215, 0.55)", borderRadius: 3 }]
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } }
      }
    });
  });
})();
