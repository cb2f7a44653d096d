// The contract CSV form: the browser's own file button speaks the browser's language, so the
// page shows its own (Polish) and writes the chosen file's name beside it, as text.
"use strict";
(function () {
  const input = document.getElementById("csv-file");
  const shown = document.getElementById("csv-file-name");
  if (!input || !shown) { return; }
  input.addEventListener("change", function () {
    const file = input.files && input.files[0];
    shown.textContent = file ? file.name : shown.dataset.none;
  });
})();
