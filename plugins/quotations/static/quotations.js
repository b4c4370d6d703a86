// The quotation form's customer search: the order entry form's customer search (by name, phone
// or e-mail), asked through the quotations plugin's own endpoint. Picking a customer sets the
// hidden id and fills the contact and delivery fields that are still empty. Without this script
// the form still posts the id it was rendered with; the server checks it either way.
(function () {
  "use strict";

  var form = document.getElementById("quotation-form");
  if (!form) { return; }
  var search = form.querySelector('[data-role="customer-search"]');
  var idInput = form.querySelector('[data-role="customer-id"]');
  var box = form.querySelector('[data-role="customer-results"]');
  if (!search || !idInput || !box) { return; }
  var found = [];
  var current = -1;
  var timer = null;
  var asked = 0;

  function fillEmpty(name, value) {
    var input = form.elements[name];
    if (input && !input.value && value) { input.value = value; }
  }

  function close() {
    box.hidden = true;
    search.setAttribute("aria-expanded", "false");
    current = -1;
  }

  function choose(customer) {
    close();
    idInput.value = customer.id;
    search.value = customer.name;
    search.classList.remove("is-invalid");
    fillEmpty("contact_phone", customer.phone);
    fillEmpty("contact_email", customer.email);
    var a = customer.address;
    if (a && !form.elements.ship_line1.value) {
      fillEmpty("ship_recipient", a.recipient || customer.name);
      ["line1", "line2", "city", "region", "postcode"].forEach(function (n) { fillEmpty("ship_" + n, a[n]); });
      if (a.country) { form.elements.ship_country.value = a.country; }
    }
  }

  function mark(index) {
    var rows = box.querySelectorAll(".list-group-item");
    rows.forEach(function (row, i) { row.classList.toggle("active", i === index); });
    current = index;
  }

  function line(parent, tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    parent.appendChild(el);
  }

  function render(results) {
    found = results;
    box.innerHTML = "";
    if (!results.length) { line(box, "div", "list-group-item text-body-secondary small", form.dataset.msgNoResults); }
    results.forEach(function (customer) {
      var row = document.createElement("button");
      row.type = "button";
      row.className = "list-group-item list-group-item-action";
      row.setAttribute("role", "option");
      row.setAttribute("data-testid", "customer-result");
      line(row, "span", "fw-semibold me-2", customer.name);
      line(row, "span", "text-body-secondary small", customer.phone || customer.email || "");
      if (customer.address) { line(row, "small", "text-body-secondary d-block text-truncate", customer.address.text); }
      row.addEventListener("mousedown", function (event) { event.preventDefault(); });
      row.addEventListener("click", function () { choose(customer); });
      box.appendChild(row);
    });
    box.hidden = false;
    search.setAttribute("aria-expanded", "true");
    mark(results.length ? 0 : -1);
  }

  function ask() {
    var q = search.value.trim();
    if (!q) { close(); return; }
    var mine = ++asked;
    fetch(form.dataset.customersUrl + "?q=" + encodeURIComponent(q),
          { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (mine === asked) { render(data.results || []); } })
      .catch(close);
  }

  search.addEventListener("input", function () {
    idInput.value = "";
    clearTimeout(timer);
    timer = setTimeout(ask, 180);
  });
  search.addEventListener("keydown", function (event) {
    if (box.hidden) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (found.length) { mark((current + (event.key === "ArrowDown" ? 1 : found.length - 1)) % found.length); }
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (found[current]) { choose(found[current]); }
    } else if (event.key === "Escape") {
      close();
    }
  });
  search.addEventListener("blur", function () { setTimeout(close, 120); });
}());
