// The order list's selection: the box in the heading ticks every order of the page.
(function () {
  "use strict";
  var all = document.querySelector("[data-bulk-all]");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll("[data-bulk-one]").forEach(function (box) { box.checked = all.checked; });
  });
})();
