// The console's few behaviours on top of htmx: upload progress, inline errors, a log view that
// follows, busy buttons. Plain listeners on document, so content swapped in by htmx is covered too.
// Every page works without this file; it only makes waiting visible.
"use strict";

(function () {
  // A swap target marked data-swap-errors (or inside one) shows the server's 4xx answer (the form
  // with errors at the field) in place, instead of htmx's default of ignoring error responses.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if (status >= 400 && status < 500 && target && target.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A 5xx or a dropped connection has no fragment to show: say so in the form.
  function showRequestError(event, text) {
    var form = event.detail.elt.closest("[data-swap-errors]");
    var slot = form && form.querySelector(".request-error");
    if (!slot) return;
    slot.textContent = text;
    slot.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 503) {
      showRequestError(event, "The Docker engine is not answering (503). Nothing was changed; try again once it is back.");
    } else if (status >= 500) {
      showRequestError(event, "The server failed (HTTP " + status + "). Try again; the event log may say more.");
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    showRequestError(event, "The connection to the server was lost before it answered. Check the file size and try again.");
  });

  // Upload progress: htmx re-fires the XHR's upload progress as htmx:xhr:progress on the form.
  function uploadParts(elt) {
    var form = elt.closest("[data-upload-progress]");
    return form && { form: form, bar: form.querySelector("progress"), status: form.querySelector(".upload-status") };
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var parts = uploadParts(event.detail.elt);
    if (!parts) return;
    // Refuse a file over the server's cap before sending a byte of it.
    var input = parts.form.querySelector("input[type=file]");
    var limit = Number(input && input.dataset.maxBytes);
    var file = input && input.files[0];
    if (limit && file && file.size > limit) {
      event.preventDefault();
      showRequestError(event, file.name + " is " + file.size + " bytes; the upload limit is " + limit + " bytes.");
      return;
    }
    parts.bar.hidden = false;
    parts.bar.value = 0;
    parts.status.textContent = "Uploading…";
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var parts = uploadParts(event.target);
    if (!parts || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    parts.bar.value = percent;
    parts.status.textContent =
      percent < 100 ? "Uploading… " + percent + "%" : "Uploaded; the engine is loading the image…";
  });

  // A log view marked data-follow stays at the bottom as new lines arrive, unless the reader
  // scrolled up to read something.
  var followed = new WeakMap();
  function atBottom(elt) {
    return elt.scrollHeight - elt.scrollTop - elt.clientHeight < 24;
  }
  function toBottom(elt) {
    elt.scrollTop = elt.scrollHeight;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-follow")) followed.set(target, atBottom(target));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-follow") && followed.get(target) !== false) toBottom(target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-follow]").forEach(toBottom);
  });

  // Plain (non-htmx) forms marked data-busy: the button spins while the server works.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-busy")) return;
    var button = event.submitter || form.querySelector("button[type=submit]");
    if (button) {
      button.setAttribute("aria-busy", "true");
      // Disabled after this event, so a double click cannot post twice.
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });

  // A GET filter form marked data-drop-empty leaves its empty fields out of the URL (?actor=bob,
  // not ?kind=&actor=bob&...). formdata does not bubble, hence the capture phase.
  document.addEventListener("formdata", function (event) {
    if (!event.target.hasAttribute("data-drop-empty")) return;
    Array.from(event.formData.entries()).forEach(function (entry) {
      if (entry[1] === "") event.formData.delete(entry[0]);
    });
  }, true);

  // The one-time token: focusing the field selects the whole key, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
