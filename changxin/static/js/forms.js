/* Character counters for length-limited fields (core/texts.py name_length_limits).
 * The browser's maxlength would cut pasted text without a word; instead the field keeps all of
 * it, a counter under it says how many characters there are, and over the limit the field is
 * marked invalid with a message (the server refuses it with the same limit). */
(function () {
  "use strict";
  function setUp(field) {
    if (field.dataset.counterReady) { return; }
    field.dataset.counterReady = "1";
    var limit = parseInt(field.dataset.maxlength, 10);
    var counter = document.createElement("small");
    counter.className = "char-counter";
    counter.id = (field.id || field.name) + "-counter";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(counter.id) < 0) { described.push(counter.id); }
    field.setAttribute("aria-describedby", described.join(" "));
    var serverInvalid = field.getAttribute("aria-invalid") === "true";
    // short fields (a name, a phone number) show the count only when it gets near the limit
    var always = field.tagName === "TEXTAREA" || limit >= 100;
    function update() {
      var count = Array.from(field.value).length;
      var over = count - limit;
      if (over > 0) {
        counter.textContent = field.dataset.overText.replace("{over}", over);
        counter.classList.add("over");
        field.setAttribute("aria-invalid", "true");
      } else {
        counter.textContent = always || count >= limit * 0.8 ? field.dataset.counterText.replace("{count}", count) : "";
        counter.classList.remove("over");
        if (!serverInvalid) { field.removeAttribute("aria-invalid"); }
      }
    }
    field.addEventListener("input", function () { serverInvalid = false; update(); });
    update();
  }
  function scan(root) {
    (root || document).querySelectorAll("[data-maxlength]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
})();

/* <select data-autosubmit>: choosing an option submits its form (no inline handlers: the
 * Content-Security-Policy forbids them); a <noscript> button covers browsers without scripts.
 * <button data-print>: prints the page. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) { field.form.submit(); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) { event.preventDefault(); window.print(); }
  });
})();
