// 公文交换: "select all under" in the unit picker, the live count of picked units
// (groups' members included, the sender excluded), confirmations and the print button.
(function () {
  "use strict";

  function ids(text) {
    return (text || "").split(",").filter(Boolean);
  }

  function setupPicker(picker) {
    var sender = picker.getAttribute("data-sender") || "";
    var counter = picker.querySelector("[data-pick-count]");
    var byId = {};
    picker.querySelectorAll('input[name="recipients"]').forEach(function (box) {
      byId[box.value] = box;
    });

    function recount() {
      var chosen = {};
      picker.querySelectorAll('input[name="recipients"]:checked').forEach(function (box) {
        chosen[box.value] = true;
      });
      picker.querySelectorAll('input[name="groups"]:checked').forEach(function (box) {
        ids(box.getAttribute("data-members")).forEach(function (id) {
          chosen[id] = true;
        });
      });
      delete chosen[sender];
      if (counter) {
        counter.textContent = String(Object.keys(chosen).length);
      }
    }

    picker.addEventListener("change", function (event) {
      var box = event.target;
      if (!(box instanceof HTMLInputElement)) {
        return;
      }
      var under = box.getAttribute("data-select-under");
      if (under) {
        ids(under).forEach(function (id) {
          if (byId[id]) {
            byId[id].checked = box.checked;
          }
        });
        if (box.name === "divisions") {
          // the units are now ticked one by one: do not send the division as well
          box.dataset.expanded = "1";
        }
      }
      recount();
    });
    var form = picker.closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        picker.querySelectorAll('input[name="divisions"]').forEach(function (box) {
          if (box.dataset.expanded === "1") {
            box.checked = false;
          }
        });
      });
    }
    var filter = picker.querySelector("[data-pick-filter]");
    if (filter) {
      // find a unit among thousands: hide the others, open the divisions that match
      filter.addEventListener("input", function () {
        var words = filter.value.trim().toLowerCase();
        picker.querySelectorAll(".doc-division").forEach(function (block) {
          var shown = 0;
          block.querySelectorAll("li").forEach(function (item) {
            var match = !words || item.textContent.toLowerCase().indexOf(words) !== -1;
            item.hidden = !match;
            if (match) {
              shown += 1;
            }
          });
          block.hidden = shown === 0;
          if (words && shown > 0) {
            block.open = true;
          }
        });
      });
    }
    recount();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-picker]").forEach(setupPicker);
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  });
})();
