// The order entry form: add and remove lines without a reload, pick products and customers
// from JSON searches, and show running totals. The server computes the real totals again.
(function () {
  "use strict";

  var form = document.getElementById("order-form");
  if (!form) { return; }

  var decimals = JSON.parse(form.dataset.decimals || "{}");
  var locale = form.dataset.locale || "en";
  var linesBox = form.querySelector('[data-role="lines"]');
  var template = document.getElementById("line-template");
  var currencyInput = form.querySelector('[data-role="currency"]');

  // ------------------------------------------------------------------ money, exact (BigInt)

  function currency() { return currencyInput ? currencyInput.value : ""; }
  function exponent(code) { code = code || currency(); return Object.prototype.hasOwnProperty.call(decimals, code) ? decimals[code] : 2; }

  function parseMinor(text, exp) {
    text = String(text || "").replace(/[,\s\u00a0]/g, "");
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) { return null; }
    var parts = text.split(".");
    var whole = parts[0] || "0";
    var frac = parts[1] || "";
    if (frac.length > exp) {
      if (/[^0]/.test(frac.slice(exp))) { return null; }
      frac = frac.slice(0, exp);
    }
    while (frac.length < exp) { frac += "0"; }
    return BigInt(whole + frac);
  }

  function parseQuantity(text) {
    text = String(text || "").trim();
    if (!/^\d{1,7}$/.test(text)) { return null; }
    var q = BigInt(text);
    return q > 0n ? q : null;
  }

  // Discount in hundredths of a percent (0 to 10000).
  function parseDiscount(text) {
    text = String(text || "").trim().replace(/%$/, "").trim();
    if (text === "") { return 0n; }
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) { return null; }
    var parts = text.split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    var value = BigInt(parts[0]) * 100n + BigInt(frac);
    return value <= 10000n ? value : null;
  }

  // The server's rule: price x quantity less the discount, rounded half-up once per line.
  function lineTotal(priceMinor, quantity, discount) {
    var numerator = priceMinor * quantity * (10000n - discount);
    return (numerator * 2n + 10000n) / 20000n;
  }

  function majorText(minor, exp) {
    var digits = minor.toString();
    if (!exp) { return digits; }
    while (digits.length <= exp) { digits = "0" + digits; }
    return digits.slice(0, -exp) + "." + digits.slice(-exp);
  }

  function formatMoney(minor) {
    var exp = exponent();
    var text = majorText(minor, exp);
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: currency(),
        minimumFractionDigits: exp, maximumFractionDigits: exp }).format(text);
    } catch (e) {
      return text + " " + currency();
    }
  }

  // The server's tax rule (plugins/orders/tax.py), with the rate in hundredths of a percent:
  // tax-inclusive, tax = gross x p / (100 + p); exclusive, tax = net x p / 100; half-up.
  var includeTax = form.dataset.pricesIncludeTax !== "0";
  function parseRate(text) {  // "13", "6.5": hundredths of a percent; anything else: no tax
    text = String(text || "").trim();
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) { return 0n; }
    var parts = text.split(".");
    return BigInt(parts[0]) * 100n + BigInt(((parts[1] || "") + "00").slice(0, 2));
  }
  function lineTax(amount, rate) {
    if (includeTax) { return (amount * rate * 2n + (10000n + rate)) / (2n * (10000n + rate)); }
    return (amount * rate * 2n + 10000n) / 20000n;
  }

  // ------------------------------------------------------------------ totals

  function role(root, name) { return root.querySelector('[data-role="' + name + '"]'); }

  function recompute() {
    var subtotal = 0n;
    var amounts = 0n;
    var tax = 0n;
    linesBox.querySelectorAll("[data-line]").forEach(function (row) {
      var out = role(row, "line-total");
      var quantity = parseQuantity(role(row, "quantity").value);
      var priceText = role(row, "price").value.trim();
      var price = priceText ? parseMinor(priceText, exponent()) : null;
      if (!priceText && row.dataset.priceMinor && row.dataset.priceCurrency === currency()) {
        price = BigInt(row.dataset.priceMinor);
      }
      var discount = parseDiscount(role(row, "discount").value);
      if (quantity === null || price === null || discount === null) {
        out.textContent = "—";
        return;
      }
      var amount = lineTotal(price, quantity, discount);
      var rate = parseRate(role(row, "tax-rate").value);
      var lineTaxMinor = lineTax(amount, rate);
      subtotal += price * quantity;
      amounts += amount;
      tax += lineTaxMinor;
      out.textContent = formatMoney(includeTax ? amount : amount + lineTaxMinor);
    });
    var total = includeTax ? amounts : amounts + tax;
    role(form, "subtotal").textContent = formatMoney(subtotal);
    role(form, "discount-total").textContent = formatMoney(subtotal - amounts);
    role(form, "tax-total").textContent = formatMoney(tax);
    role(form, "total").textContent = formatMoney(total);
    var barTotal = role(form, "bar-total");  // the save bar repeats it: it may cover the totals row
    if (barTotal) { barTotal.textContent = formatMoney(total); }
    var barTax = role(form, "bar-tax");
    if (barTax) { barTax.textContent = formatMoney(tax); }
  }

  // ------------------------------------------------------------------ a small search picker

  function picker(input, box, url, renderItem, onPick) {
    var timer = null;
    var items = [];
    var active = -1;
    var seq = 0;

    function hide() {
      box.hidden = true;
      input.setAttribute("aria-expanded", "false");
      active = -1;
    }

    function highlight(index) {
      var nodes = box.querySelectorAll(".list-group-item");
      nodes.forEach(function (n, i) { n.classList.toggle("active", i === index); });
      active = index;
      if (nodes[index]) { nodes[index].scrollIntoView({ block: "nearest" }); }
    }

    function show(results) {
      items = results;
      box.innerHTML = "";
      if (!results.length) {
        var none = document.createElement("div");
        none.className = "list-group-item text-body-secondary small";
        none.textContent = form.dataset.msgNoResults;
        box.appendChild(none);
      }
      results.forEach(function (item, index) {
        var node = document.createElement("button");
        node.type = "button";
        node.className = "list-group-item list-group-item-action";
        node.setAttribute("role", "option");
        renderItem(node, item);
        node.addEventListener("mousedown", function (event) { event.preventDefault(); });
        node.addEventListener("click", function () { hide(); onPick(item); });
        box.appendChild(node);
        if (index === 0) { node.classList.add("active"); }
      });
      active = results.length ? 0 : -1;
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function search() {
      var q = input.value.trim();
      if (!q) { hide(); return; }
      var mine = ++seq;
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q),
            { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === seq && document.activeElement === input) { show(data.results || []); } })
        .catch(function () { hide(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 180);
    });
    input.addEventListener("keydown", function (event) {
      if (box.hidden) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var count = items.length;
        if (count) { highlight((active + (event.key === "ArrowDown" ? 1 : count - 1)) % count); }
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (active >= 0 && items[active]) { var item = items[active]; hide(); onPick(item); }
      } else if (event.key === "Escape") {
        hide();
      }
    });
    input.addEventListener("blur", function () { setTimeout(hide, 120); });
  }

  function addText(node, tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = text;
    node.appendChild(el);
    return el;
  }

  // ------------------------------------------------------------------ lines

  function setupLine(row) {
    if (row.dataset.ready) { return; }
    row.dataset.ready = "1";
    var search = role(row, "product-search");
    var hint = role(row, "product-hint");
    search.addEventListener("input", function () {
      // Typing again forgets the picked product; the server then reads the code typed.
      role(row, "product-id").value = "";
      role(row, "sku").value = "";
      role(row, "tax-rate").value = "";
      delete row.dataset.priceMinor;
      recompute();
    });
    picker(search, role(row, "product-results"), form.dataset.productsUrl, function (node, p) {
      var top = addText(node, "div", "d-flex justify-content-between gap-2", "");
      addText(top, "span", "fw-semibold", p.sku + " — " + p.name);
      addText(top, "span", "text-nowrap", p.price + " " + p.currency);
      if (p.spec) { addText(node, "small", "text-body-secondary", p.spec); }
    }, function (p) { pickProduct(row, p); });
    if (hint && !hint.textContent.trim()) { hint.hidden = true; }
  }

  function pickProduct(row, p) {
    role(row, "product-id").value = p.id;
    role(row, "sku").value = p.sku;
    role(row, "product-search").value = p.sku + " — " + p.name;
    role(row, "unit").textContent = p.unit || "—";
    row.dataset.priceMinor = p.price_minor;
    row.dataset.priceCurrency = p.currency;
    role(row, "tax-rate").value = p.tax_rate || "0";
    var price = role(row, "price");
    var hint = role(row, "product-hint");
    if (p.currency === currency()) {
      if (!price.value || price.dataset.autofilled === "1") {
        price.value = p.price;
        price.dataset.autofilled = "1";
      }
      hint.textContent = p.spec || "";
    } else {
      if (price.dataset.autofilled === "1") { price.value = ""; }
      hint.textContent = form.dataset.msgPricedIn.replace("{currency}", p.currency);
    }
    hint.hidden = !hint.textContent;
    var quantity = role(row, "quantity");
    if (!quantity.value) { quantity.value = "1"; }
    quantity.focus();
    quantity.select();
    recompute();
    refreshListPrice(row);
  }

  // The customer's price-list price (quantity breaks) of a line whose price was not typed.
  function refreshListPrice(row) {
    var url = form.dataset.quoteUrl;
    var price = role(row, "price");
    var productId = role(row, "product-id").value;
    if (!url || !productId || (price.value && price.dataset.autofilled !== "1")) { return; }
    var customer = form.querySelector('[data-role="customer-id"]');
    var params = new URLSearchParams({customer_id: customer ? customer.value : "", currency: currency(),
                                      product_id: productId, quantity: role(row, "quantity").value || "1"});
    fetch(url + "?" + params.toString(), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (q) {
        if (!q || q.price_minor === null || (price.value && price.dataset.autofilled !== "1")) { return; }
        price.value = q.unit_price;
        price.dataset.autofilled = "1";
        price.title = q.source || "";
        row.dataset.priceMinor = q.price_minor;
        row.dataset.priceCurrency = currency();
        recompute();
      })
      .catch(function () { /* the server prices the line anyway */ });
  }

  function addLine() {
    var index = parseInt(linesBox.dataset.nextIndex || "0", 10);
    linesBox.dataset.nextIndex = String(index + 1);
    linesBox.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__i__/g, String(index)));
    var row = linesBox.lastElementChild;
    setupLine(row);
    role(row, "product-search").focus();
    recompute();
    return row;
  }

  function removeLine(row) {
    if (linesBox.querySelectorAll("[data-line]").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      role(row, "unit").textContent = "—";
      delete row.dataset.priceMinor;
    }
    recompute();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) { return; }
    if (button.dataset.action === "add-line") { event.preventDefault(); addLine(); }
    if (button.dataset.action === "remove-line") { event.preventDefault(); removeLine(button.closest("[data-line]")); }
  });
  linesBox.addEventListener("input", function (event) {
    if (event.target.dataset.role === "price") { event.target.dataset.autofilled = ""; }
    if (event.target.dataset.role === "quantity") { refreshListPrice(event.target.closest("[data-line]")); }
    recompute();
  });
  if (currencyInput) {
    currencyInput.addEventListener("change", function () {
      linesBox.querySelectorAll("[data-line]").forEach(function (row) {
        var price = role(row, "price");
        if (price.dataset.autofilled === "1" && row.dataset.priceCurrency !== currency()) { price.value = ""; }
      });
      recompute();
    });
  }
  linesBox.querySelectorAll("[data-line]").forEach(setupLine);

  // ------------------------------------------------------------------ barcode scanner
  // A scanner types the code and Enter: the product's line gets one more, or a new line.

  var scan = role(form, "scan");
  var scanMessage = role(form, "scan-message");

  function scanned(p) {
    var rows = Array.prototype.slice.call(linesBox.querySelectorAll("[data-line]"));
    var same = rows.filter(function (r) { return role(r, "product-id").value === String(p.id); })[0];
    if (same) {
      var quantity = role(same, "quantity");
      quantity.value = String((parseInt(quantity.value, 10) || 0) + 1);
      recompute();
    } else {
      var empty = rows.filter(function (r) {
        return !role(r, "product-id").value && !role(r, "product-search").value.trim();
      })[0];
      pickProduct(empty || addLine(), p);
    }
    scanMessage.className = "small mt-1 text-success";
    scanMessage.textContent = form.dataset.msgScanAdded.replace("{name}", p.sku + " — " + p.name);
  }

  function scanFailed(message) {
    scanMessage.className = "small mt-1 text-danger";
    scanMessage.textContent = message || form.dataset.msgScanFailed;
  }

  if (scan) {
    scan.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var code = scan.value.trim();
      scan.value = "";
      if (!code) { return; }
      fetch(form.dataset.scanUrl + "?code=" + encodeURIComponent(code), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (answer) {
          if (answer.ok) { scanned(answer.data.product); } else { scanFailed(answer.data.message); }
          scan.focus();
        })
        .catch(function () { scanFailed(""); scan.focus(); });
    });
  }

  // ------------------------------------------------------------------ customer

  var customerId = form.querySelector('[data-role="customer-id"]');
  var customerSearch = role(form, "customer-search");
  var addressChoice = role(form, "address-choice");
  var newCustomer = role(form, "new-customer");

  function setField(name, value) {
    var input = form.elements[name];
    if (input) { input.value = value || ""; }
  }

  function fillAddress(customer, address) {
    setField("ship_recipient", address.recipient || customer.name);
    setField("ship_line1", address.line1);
    setField("ship_line2", address.line2);
    setField("ship_city", address.city);
    setField("ship_region", address.region);
    setField("ship_postcode", address.postcode);
    setField("ship_country", address.country);
    if (address.phone && !form.elements.contact_phone.value) { setField("contact_phone", address.phone); }
  }

  function fillContacts(c) {
    var contactChoice = role(form, "contact-choice");
    var contactId = role(form, "contact-id");
    if (!contactChoice || !contactId) { return; }
    var contacts = c.contacts || [];
    contactChoice.innerHTML = "";
    contactId.value = "";
    var none = document.createElement("option");
    none.value = "";
    none.textContent = c.name;
    contactChoice.appendChild(none);
    contacts.forEach(function (p) {
      var option = document.createElement("option");
      option.value = p.id;
      option.textContent = p.name + (p.role ? " (" + p.role + ")" : "");
      contactChoice.appendChild(option);
    });
    contactChoice.hidden = contacts.length === 0;
    contactChoice.onchange = function () {
      var picked = contacts.filter(function (p) { return String(p.id) === contactChoice.value; })[0];
      contactId.value = picked ? picked.id : "";
      setField("contact_name", picked ? picked.name : c.name);
      setField("contact_phone", picked ? picked.phone : c.phone);
      setField("contact_email", picked ? picked.email : c.email);
    };
  }

  function pickCustomer(c) {
    customerId.value = c.id;
    if (customerSearch) { customerSearch.value = c.name; customerSearch.classList.remove("is-invalid"); }
    setField("contact_name", c.name);
    setField("contact_phone", c.phone);
    setField("contact_email", c.email);
    var addresses = c.addresses || [];
    var chosen = addresses.filter(function (a) { return a.is_default; })[0] || addresses[0];
    if (chosen) { fillAddress(c, chosen); }
    addressChoice.innerHTML = "";
    addresses.forEach(function (a) {
      var option = document.createElement("option");
      option.value = a.id;
      option.textContent = (a.label ? a.label + ": " : "") + a.text;
      option.selected = a === chosen;
      addressChoice.appendChild(option);
    });
    addressChoice.hidden = addresses.length < 2;
    fillContacts(c);
    addressChoice.onchange = function () {
      var picked = addresses.filter(function (a) { return String(a.id) === addressChoice.value; })[0];
      if (picked) { fillAddress(c, picked); }
    };
    if (newCustomer) {
      newCustomer.open = false;
      ["new_customer_name", "new_customer_phone", "new_customer_email"].forEach(function (n) { setField(n, ""); });
      role(form, "duplicates").hidden = true;
    }
  }

  if (customerSearch) {
    customerSearch.addEventListener("input", function () { customerId.value = ""; });
    picker(customerSearch, role(form, "customer-results"), form.dataset.customersUrl, function (node, c) {
      var top = addText(node, "div", "d-flex justify-content-between gap-2", "");
      addText(top, "span", "fw-semibold", c.name);
      addText(top, "span", "text-body-secondary small", c.phone || c.email || "");
      var address = (c.addresses || []).filter(function (a) { return a.is_default; })[0];
      if (address) { addText(node, "small", "text-body-secondary d-block text-truncate", address.text); }
    }, pickCustomer);
  }

  function checkDuplicates() {
    var phone = form.elements.new_customer_phone.value.trim();
    var email = form.elements.new_customer_email.value.trim();
    var box = role(form, "duplicates");
    var list = role(form, "duplicate-list");
    if (!phone && !email) { return; }
    var url = form.dataset.duplicatesUrl + "?phone=" + encodeURIComponent(phone) + "&email=" + encodeURIComponent(email);
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { matches: [] }; })
      .then(function (data) {
        var matches = data.matches || [];
        list.innerHTML = "";
        if (!matches.length) { if (!box.querySelector("div:not([data-role])")) { box.hidden = true; } return; }
        addText(list, "div", "fw-semibold", form.dataset.msgDuplicate);
        matches.forEach(function (c) {
          var line = addText(list, "div", "d-flex flex-wrap align-items-center gap-2 mt-1", "");
          addText(line, "span", "", c.name + " · " + (c.phone || "") + " " + (c.email || ""));
          var use = addText(line, "button", "btn btn-sm btn-outline-primary", form.dataset.msgUse);
          use.type = "button";
          use.addEventListener("click", function () { pickCustomer(c); });
        });
        box.hidden = false;
      })
      .catch(function () {});
  }

  if (newCustomer) {
    form.elements.new_customer_name.addEventListener("input", function () {
      customerId.value = "";
      if (customerSearch) { customerSearch.value = ""; }
      if (!form.elements.contact_name.value || form.elements.contact_name.dataset.copied === "1") {
        setField("contact_name", form.elements.new_customer_name.value);
        form.elements.contact_name.dataset.copied = "1";
      }
      if (!form.elements.ship_recipient.value || form.elements.ship_recipient.dataset.copied === "1") {
        setField("ship_recipient", form.elements.new_customer_name.value);
        form.elements.ship_recipient.dataset.copied = "1";
      }
    });
    form.elements.new_customer_phone.addEventListener("change", function () {
      if (!form.elements.contact_phone.value) { setField("contact_phone", form.elements.new_customer_phone.value); }
      checkDuplicates();
    });
    form.elements.new_customer_email.addEventListener("change", function () {
      if (!form.elements.contact_email.value) { setField("contact_email", form.elements.new_customer_email.value); }
      checkDuplicates();
    });
  }

  recompute();
})();
