// A payment shown as a QR code: ask every few seconds whether it is still pending, and reload the
// page once it is not (paid, failed), so the clerk or the customer sees the result. No inline script:
//   <div data-payment-status-url="/finance/payment-status/<token>" data-poll-seconds="3">
(function () {
  function watch(box) {
    var url = box.getAttribute("data-payment-status-url");
    var seconds = parseInt(box.getAttribute("data-poll-seconds") || "3", 10);
    function ask() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (data) {
          if (data && data.status && data.status !== "pending") {
            window.location.reload();
          } else {
            window.setTimeout(ask, seconds * 1000);
          }
        })
        .catch(function () { window.setTimeout(ask, seconds * 2000); });
    }
    window.setTimeout(ask, seconds * 1000);
  }
  document.querySelectorAll("[data-payment-status-url]").forEach(watch);
}());
