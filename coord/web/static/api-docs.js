// Starts Swagger UI on /schema (coord/web/apidocs.py): the page has no inline script (CSP).
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // no call to the public validator: the page stays on Coord's origin
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
