// Show only the fields the chosen carrier's adapter uses (the form also works without this).
(function () {
  document.querySelectorAll("[data-logistics-carrier-fields]").forEach(function (box) {
    var select = box.querySelector("select[name=carrier_id]");
    if (!select) { return; }
    function update() {
      var option = select.options[select.selectedIndex];
      var chosen = option && option.value;
      var creates = chosen && option.getAttribute("data-creates") === "1";
      var asksName = chosen && option.getAttribute("data-asks-name") === "1";
      var show = {"asks-name": asksName, "typed-number": !creates, "carrier-number": creates};
      box.querySelectorAll("[data-show-when]").forEach(function (el) {
        el.hidden = !show[el.getAttribute("data-show-when")];
      });
    }
    select.addEventListener("change", update);
    update();
  });
})();
