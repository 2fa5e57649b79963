// Behaviour shared by every page. No inline scripts or handlers: the CSP forbids them.
document.addEventListener("DOMContentLoaded", function () {
  var language = document.getElementById("lang-select");
  if (language) {
    language.addEventListener("change", function () {
      language.form.submit();
    });
  }
});
