// Small progressive enhancements; every page also works without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // Guard against double submission of the same form (stale double posts).
  if (form.dataset && form.dataset.submitted === "1") {
    event.preventDefault();
    return;
  }
  // getAttribute: a field named "method" (a filter) shadows the form's own method property.
  var method = form.getAttribute && form.getAttribute("method");
  if (method && method.toLowerCase() === "post") {
    form.dataset.submitted = "1";
    setTimeout(function () { form.dataset.submitted = ""; }, 4000);
  }
}, true);

// Behaviours declared with data- attributes, so that no page needs inline script or onclick=
// (the Content-Security-Policy allows neither):
//   data-print                 a button that opens the print dialogue
//   data-copy="#input-id"      a button that copies the input's value to the clipboard
//   data-autosubmit            a select or input whose form is submitted when it changes
//   data-add-row="#tbody-id"   a button that adds a blank copy of the table body's last row,
//                              renaming fields "<prefix>-<n>-<name>"; data-max-rows caps it
function erpCopy(input) {
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value);
  } else {
    document.execCommand("copy");
  }
}

function erpAddRow(button) {
  var body = document.querySelector(button.getAttribute("data-add-row"));
  if (!body) { return; }
  var rows = body.querySelectorAll("tr");
  var max = parseInt(button.getAttribute("data-max-rows") || "200", 10);
  if (!rows.length || rows.length >= max) { return; }
  var row = rows[rows.length - 1].cloneNode(true);
  var n = rows.length;
  row.querySelector("td").textContent = n + 1;
  row.querySelectorAll("input, select, textarea").forEach(function (input) {
    input.name = input.name.replace(/^([A-Za-z_]+)-\d+-/, "$1-" + n + "-");
    input.id = input.name;
    input.value = "";
    input.classList.remove("is-invalid");
  });
  row.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  body.appendChild(row);
  var first = row.querySelector("input");
  if (first) { first.focus(); }
}

document.addEventListener("click", function (event) {
  var target = event.target.closest && event.target.closest("[data-print], [data-copy], [data-add-row]");
  if (!target) { return; }
  if (target.hasAttribute("data-print")) {
    event.preventDefault();
    window.print();
  } else if (target.hasAttribute("data-copy")) {
    var input = document.querySelector(target.getAttribute("data-copy"));
    if (input) { erpCopy(input); }
  } else if (target.hasAttribute("data-add-row")) {
    erpAddRow(target);
  }
});

document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
    if (field.form.requestSubmit) { field.form.requestSubmit(); } else { field.form.submit(); }
  }
});

// Wide tables on a narrow screen scroll sideways inside their box (.table-responsive), never the
// page; the side that has more columns fades out (erp-more-left / erp-more-right, see erp.css) so
// that the reader sees there is more to swipe to.
function erpScrollHints() {
  document.querySelectorAll(".table-responsive").forEach(function (box) {
    var max = box.scrollWidth - box.clientWidth;
    box.classList.toggle("erp-more-right", max > 1 && box.scrollLeft < max - 1);
    box.classList.toggle("erp-more-left", max > 1 && box.scrollLeft > 1);
  });
}
erpScrollHints();
window.addEventListener("load", erpScrollHints);
window.addEventListener("resize", erpScrollHints);
document.addEventListener("scroll", function (event) {
  if (event.target.classList && event.target.classList.contains("table-responsive")) { erpScrollHints(); }
}, true);

// A barcode scanner's field: <input data-scan data-scan-url="..." data-scan-rows="#tbody-id">.
// The scanner types a code and Enter; the code is looked up at data-scan-url?code=... (JSON
// {product: {sku, name}} or, when unknown, 404 {message}). In the rows of data-scan-rows:
//   rows with data-sku (a fixed list, e.g. a purchase order's lines): the first scan empties
//     every quantity (input[data-scan-quantity]), each scan counts the product's row up;
//   otherwise lines of "<prefix>-<n>-sku" / "-quantity" fields: the product's line counts up,
//     else the first empty line (or a new one, through the [data-add-row] button) gets it.
// Messages: data-msg-added ("{name}"), data-msg-not-here ("{sku}"), data-msg-failed.
function erpScanLine(body, sku) {
  var fixed = body.querySelectorAll("tr[data-sku]");
  if (fixed.length) {
    var match = Array.prototype.filter.call(fixed, function (row) { return row.getAttribute("data-sku") === sku; })[0];
    return match ? match.querySelector("input[data-scan-quantity]") : null;
  }
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr"));
  function field(row, name) { return row.querySelector('input[name$="-' + name + '"]'); }
  var row = rows.filter(function (r) { return field(r, "sku") && field(r, "sku").value.trim().toUpperCase() === sku; })[0] ||
            rows.filter(function (r) { return field(r, "sku") && !field(r, "sku").value.trim(); })[0];
  if (!row) {
    var add = document.querySelector('[data-add-row="#' + body.id + '"]');
    if (!add) { return null; }
    erpAddRow(add);
    row = body.lastElementChild;
  }
  if (!field(row, "sku").value.trim()) { field(row, "sku").value = sku; field(row, "quantity").value = ""; }
  return field(row, "quantity");
}

function erpScan(input) {
  var code = input.value.trim();
  var message = document.querySelector(input.getAttribute("data-scan-message"));
  var body = document.querySelector(input.getAttribute("data-scan-rows"));
  input.value = "";
  if (!code || !body) { return; }
  function say(text, ok) {
    if (!message) { return; }
    message.className = "small mt-1 " + (ok ? "text-success" : "text-danger");
    message.textContent = text;
  }
  fetch(input.getAttribute("data-scan-url") + "?code=" + encodeURIComponent(code), { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
    .then(function (answer) {
      if (!answer.ok) { say(answer.data.message || input.getAttribute("data-msg-failed"), false); return; }
      var p = answer.data.product;
      if (body.querySelector("tr[data-sku]") && !input.hasAttribute("data-scan-started")) {
        input.setAttribute("data-scan-started", "1");
        body.querySelectorAll("input[data-scan-quantity]").forEach(function (q) { q.value = ""; });
      }
      var quantity = erpScanLine(body, p.sku);
      if (!quantity) { say(input.getAttribute("data-msg-not-here").replace("{sku}", p.sku), false); return; }
      quantity.value = String((parseInt(quantity.value, 10) || 0) + 1);
      say(input.getAttribute("data-msg-added").replace("{name}", p.sku + " — " + p.name), true);
    })
    .catch(function () { say(input.getAttribute("data-msg-failed"), false); })
    .then(function () { input.focus(); });
}

document.addEventListener("keydown", function (event) {
  var input = event.target;
  if (event.key !== "Enter" || !input.hasAttribute || !input.hasAttribute("data-scan")) { return; }
  event.preventDefault();
  erpScan(input);
});
