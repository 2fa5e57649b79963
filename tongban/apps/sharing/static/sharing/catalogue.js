// Resource catalogue form: remove an information item row (rows are added with htmx).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-remove-row]");
  if (!button) return;
  event.preventDefault();
  var row = button.closest("tr");
  var body = row && row.parentNode;
  if (body && body.querySelectorAll("tr").length > 1) {
    row.remove();
  } else if (row) {
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
  }
});
