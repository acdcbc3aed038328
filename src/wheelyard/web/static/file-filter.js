// The file list's filter box: shows only the files whose name or tags hold every word typed.
// The box starts hidden, so that a page without scripts shows no box that does nothing.
(function () {
  "use strict";

  var box = document.getElementById("file-filter");
  if (!box) {
    return;
  }
  var files = Array.prototype.slice.call(document.querySelectorAll("#files .file"));
  var count = document.querySelector(".file-filter-count");
  box.parentElement.hidden = false;

  function apply() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    files.forEach(function (file) {
      var text = file.dataset.filter || "";
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      file.hidden = !match;
      if (match) {
        shown += 1;
      }
    });
    // Each group's heading goes with its last visible file.
    document.querySelectorAll("#files .files").forEach(function (list) {
      var visible = list.querySelector(".file:not([hidden])") !== null;
      list.hidden = !visible;
      var heading = list.previousElementSibling;
      if (heading && heading.classList.contains("file-group")) {
        heading.hidden = !visible;
      }
    });
    count.textContent = words.length ? shown + " of " + files.length + " files" : "";
  }

  box.addEventListener("input", apply);
})();
