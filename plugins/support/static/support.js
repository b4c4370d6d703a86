// Copy buttons: <button data-copy="#input-id">. Pages work without this script.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) { return; }
  var input = document.querySelector(button.getAttribute("data-copy"));
  if (!input) { return; }
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value);
  } else {
    document.execCommand("copy");
  }
  button.classList.add("btn-success");
  setTimeout(function () { button.classList.remove("btn-success"); }, 1200);
});
