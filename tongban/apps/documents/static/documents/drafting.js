// 发文办理: filter the countersign departments; show the 纪要 fields only for 纪要.
(function () {
  "use strict";
  var filter = document.querySelector(".dr-filter-input");
  if (filter) {
    filter.addEventListener("input", function () {
      var term = filter.value.trim();
      document.querySelectorAll(".dr-countersign .dr-check").forEach(function (label) {
        label.hidden = term !== "" && label.textContent.indexOf(term) === -1;
      });
    });
  }
  var kind = document.getElementById("dr-kind");
  var minutes = document.querySelector(".dr-minutes");
  if (kind && minutes) {
    var sync = function () { minutes.hidden = kind.value !== "纪要"; };
    kind.addEventListener("change", sync);
    sync();
  }
})();
