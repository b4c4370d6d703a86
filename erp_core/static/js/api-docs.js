// Start Swagger UI (vendored) on this site's OpenAPI document.
(function () {
  var script = document.getElementById("api-docs-script");
  window.ui = SwaggerUIBundle({
    url: script.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false
  });
})();
