// Workbench tabs: mark the tab whose panel htmx has just loaded as selected.
document.body.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target.id !== "tab-panel") return;
  var path = event.detail.requestConfig.path;
  document.querySelectorAll('.tabs [role="tab"]').forEach(function (tab) {
    tab.setAttribute("aria-selected", tab.getAttribute("hx-get") === path ? "true" : "false");
  });
});
