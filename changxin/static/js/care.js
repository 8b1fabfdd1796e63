/* 关怀版: larger text, higher contrast and a simpler layout for older citizens (适老化).
 * The button names what it does ("关怀版" / "标准版"), as the government sites' switch does.
 * The choice is kept per browser in a cookie, so the server renders the next page in the same mode
 * (base.html puts class="care" on <html>) without a flash of the standard layout. */
(function () {
  "use strict";
  var COOKIE = "changxin_care";
  function set(on) {
    document.documentElement.classList.toggle("care", on);
    document.cookie = COOKIE + "=" + (on ? "1" : "0") + "; path=/; max-age=31536000; SameSite=Lax";
    document.querySelectorAll("[data-care-toggle]").forEach(function (button) {
      button.textContent = on ? button.dataset.offText : button.dataset.onText;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-care-toggle]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        set(!document.documentElement.classList.contains("care"));
      });
    });
  });
})();
