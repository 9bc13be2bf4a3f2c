/* A minimal rich-text editor for the dispatch body: paragraphs, bold, italic, underline, lists, simple tables.
   The server sanitises whatever arrives, so this script only has to be convenient, not trusted. */
(function () {
  "use strict";

  function emptyTable() {
    var cells = "<td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td>";
    return "<table><tbody><tr>" + cells + "</tr><tr>" + cells + "</tr></tbody></table><p><br></p>";
  }

  function addRow(page) {
    var node = window.getSelection().anchorNode;
    var row = node && (node.nodeType === 1 ? node : node.parentElement).closest("tr");
    if (!row || !page.contains(row)) return;
    var copy = row.cloneNode(true);
    copy.querySelectorAll("td, th").forEach(function (cell) { cell.innerHTML = "&nbsp;"; });
    row.after(copy);
  }

  function run(page, command, value) {
    page.focus();
    if (command === "insertTable") document.execCommand("insertHTML", false, emptyTable());
    else if (command === "addRow") addRow(page);
    else document.execCommand(command, false, value || null);
  }

  function setUp(box) {
    var source = box.querySelector("textarea");
    var page = box.querySelector(".richtext-page");
    var toolbar = box.querySelector(".richtext-toolbar");
    document.execCommand("defaultParagraphSeparator", false, "p");
    page.innerHTML = source.value || "<p><br></p>";
    source.hidden = true;
    page.hidden = false;
    toolbar.hidden = false;
    toolbar.addEventListener("mousedown", function (event) { event.preventDefault(); });
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-command]");
      if (button) run(page, button.dataset.command, button.dataset.value);
      source.value = page.innerHTML;
    });
    page.addEventListener("input", function () { source.value = page.innerHTML; });
    source.form && source.form.addEventListener("submit", function () { source.value = page.innerHTML; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-richtext]").forEach(setUp);
  });
})();
