/*
 * Draws BPMN diagrams with the vendored bpmn-js viewer and marks where an instance stands.
 * No inline code: every figure carries its inputs as data attributes
 * (see templates/workflow/diagram.html).
 */
(function () {
  "use strict";

  function ids(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  function fail(figure, message) {
    figure.classList.add("workflow-diagram-failed");
    var status = figure.querySelector("[data-workflow-status]");
    if (status) {
      status.textContent = message;
      status.hidden = false;
    }
  }

  function mark(viewer, figure) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids(figure.dataset.completed).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, "workflow-completed");
      }
    });
    ids(figure.dataset.active).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, "workflow-active");
      }
    });
    canvas.zoom("fit-viewport", "auto");
  }

  function render(figure) {
    if (figure.dataset.workflowRendered) {
      return;
    }
    figure.dataset.workflowRendered = "1";
    var failure = figure.dataset.failure || "";
    if (typeof window.BpmnJS !== "function") {
      fail(figure, failure);
      return;
    }
    var container = figure.querySelector(".workflow-diagram-canvas");
    var viewer = new window.BpmnJS({ container: container });
    fetch(figure.dataset.xmlUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/xml" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (xml) {
        return viewer.importXML(xml);
      })
      .then(function () {
        mark(viewer, figure);
        figure.classList.add("workflow-diagram-ready");
      })
      .catch(function () {
        fail(figure, failure);
      });
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    Array.prototype.forEach.call(scope.querySelectorAll("[data-workflow-diagram]"), render);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
  // diagrams inside htmx partials
  document.addEventListener("htmx:afterSwap", function (event) {
    init(event.target);
  });
})();
