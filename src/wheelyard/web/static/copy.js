// Copy buttons: <button data-copy-target="ID" hidden> copies the text of element ID.
// Buttons start hidden so that pages without scripts show no dead button.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyText(element) {
    var text = element.textContent.trim();
    // The Clipboard API exists only on secure origins (https, localhost); an index on a
    // plain-http LAN address falls back to selecting the text and the older copy command.
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    selectText(element);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  function flash(button, label) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    window.setTimeout(function () { button.textContent = original; }, 1500);
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copyTarget);
    if (!target) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(target).then(
        function () { flash(button, "Copied"); },
        function () { selectText(target); flash(button, "Press Ctrl+C"); }
      );
    });
  });
})();
