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
  if (form.method && form.method.toLowerCase() === "post") {
    form.dataset.submitted = "1";
    setTimeout(function () { form.dataset.submitted = ""; }, 4000);
  }
}, true);
