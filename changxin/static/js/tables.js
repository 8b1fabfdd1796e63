/* Lists on a phone: every table in a .table-wrap becomes a stack of cards (static/css/app.css,
 * "Lists as cards"). Each cell gets its column's header as data-label, shown above the value, and
 * cells without a value ("—" or nothing) are marked so a phone can leave them out. */
(function () {
  "use strict";
  function label(table) {
    var heads = Array.from(table.querySelectorAll("thead th")).map(function (th) {
      return th.textContent.trim();
    });
    table.classList.add("cards-on-phone");
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var col = 0;
      Array.from(tr.children).forEach(function (td) {
        if (!td.hasAttribute("data-label")) { td.setAttribute("data-label", heads[col] || ""); }
        var text = td.textContent.trim();
        td.classList.toggle("no-value", (text === "" || text === "—") && !td.querySelector("a, button, form"));
        col += td.colSpan || 1;
      });
    });
  }
  function scan(root) {
    (root || document).querySelectorAll(".table-wrap > table").forEach(label);
    if (root && root.matches && root.matches("tr")) {
      var table = root.closest(".table-wrap > table");
      if (table) { label(table); }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    var table = event.target.closest && event.target.closest(".table-wrap > table");
    if (table) { label(table); } else { scan(event.target); }
  });
})();
