/* Small behaviours of our admin templates, kept out of inline handlers so the Content-Security-Policy can forbid
   inline script: a select that submits its form when changed, a form that asks for confirmation first. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-submit-on-change]")) event.target.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
