/* A minimal rich-text editor for the dispatch body: paragraphs, bold, italic, underline, lists, simple tables.
   The server sanitises whatever arrives, so this script only has to be convenient, not trusted. */
(function () {
  "use strict";

  var COLUMNS = 3;

  /* Return the child of the page that holds the caret (or null). */
  function currentBlock(page) {
    var selection = window.getSelection();
    var node = selection.rangeCount ? selection.getRangeAt(0).startContainer : null;
    while (node && node.parentNode !== page) node = node.parentNode;
    return node;
  }

  function placeCaret(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    range.collapse(true);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function newRow(cells) {
    var row = document.createElement("tr");
    for (var i = 0; i < cells; i++) row.appendChild(document.createElement("td")).innerHTML = "<br>";
    return row;
  }

  function insertTable(page) {
    var table = document.createElement("table");
    var body = table.appendChild(document.createElement("tbody"));
    body.appendChild(newRow(COLUMNS));
    body.appendChild(newRow(COLUMNS));
    var after = document.createElement("p");
    after.innerHTML = "<br>";
    var block = currentBlock(page);
    if (block) block.after(table, after);
    else page.append(table, after);
    placeCaret(table.querySelector("td"));
  }

  function addRow(page) {
    var node = window.getSelection().anchorNode;
    var row = node && (node.nodeType === 1 ? node : node.parentElement).closest("tr");
    if (row && page.contains(row)) row.after(newRow(row.children.length));
  }

  /* Keep the structure the sanitiser and the PDF expect: no list or table inside a paragraph. */
  function normalise(page) {
    page.querySelectorAll("p > ul, p > ol, p > table").forEach(function (inner) {
      var paragraph = inner.parentNode;
      paragraph.replaceWith.apply(paragraph, Array.prototype.slice.call(paragraph.childNodes));
    });
  }

  /* Tab moves to the next table cell (Shift+Tab back); Tab in the last cell adds a row. */
  function tabInTable(page, event) {
    var node = window.getSelection().anchorNode;
    var cell = node && (node.nodeType === 1 ? node : node.parentElement).closest("td, th");
    if (event.key !== "Tab" || !cell || !page.contains(cell)) return;
    event.preventDefault();
    var cells = Array.prototype.slice.call(cell.closest("table").querySelectorAll("td, th"));
    var index = cells.indexOf(cell) + (event.shiftKey ? -1 : 1);
    if (index >= cells.length) {
      addRow(page);
      cells = Array.prototype.slice.call(cell.closest("table").querySelectorAll("td, th"));
    }
    if (index >= 0) placeCaret(cells[index]);
  }

  function run(page, command, value) {
    page.focus();
    if (command === "insertTable") insertTable(page);
    else if (command === "addRow") addRow(page);
    else document.execCommand(command, false, value || null);
    normalise(page);
  }

  function setUp(box) {
    var source = box.querySelector("textarea");
    var page = box.querySelector(".richtext-page");
    var toolbar = box.querySelector(".richtext-toolbar");
    var sync = function () { normalise(page); source.value = page.innerHTML; };
    document.execCommand("defaultParagraphSeparator", false, "p");
    page.innerHTML = source.value || "<p><br></p>";
    source.hidden = true;
    page.hidden = false;
    toolbar.hidden = false;
    toolbar.addEventListener("mousedown", function (event) { event.preventDefault(); });
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-command]");
      if (button) run(page, button.dataset.command, button.dataset.value);
      sync();
    });
    page.addEventListener("input", sync);
    page.addEventListener("keydown", function (event) { tabInTable(page, event); });
    if (source.form) source.form.addEventListener("submit", sync);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-richtext]").forEach(setUp);
  });
})();
