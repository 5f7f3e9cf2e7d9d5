// The console's few behaviours on top of htmx: upload progress, inline errors, a log view that
// follows, busy buttons. Plain listeners on document, so content swapped in by htmx is covered too.
// Every page works without this file; it only makes waiting visible.
"use strict";

(function () {
  // The page's script runs: controls that need it (− and + of a replicas number) are shown.
  document.documentElement.classList.add("js");

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

  // A select marked data-submit-on-change (the organization switcher) submits its form when changed:
  // a listener here, since the Content-Security-Policy refuses inline handlers (onchange="...").
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-submit-on-change]");
    if (select && select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
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

  // The main navigation folds behind its Menu button on a narrow screen (CSS decides when); the
  // script makes the button work, so without it the menu simply stays unfolded.
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".main-nav .nav-toggle");
    if (!toggle) return;
    var nav = toggle.closest(".main-nav");
    nav.classList.add("folding");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  });

  // Tables become stacked cards on a narrow screen (CSS decides when): each cell is labelled with its
  // column's heading here, so the templates stay plain tables. Without the script a table keeps its
  // columns and scrolls inside its wrapper.
  function labelCells(root) {
    var tables = root.querySelectorAll ? root.querySelectorAll("main table") : [];
    Array.prototype.forEach.call(tables, function (table) {
      var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!head) return;
      var labels = [];
      Array.prototype.forEach.call(head.cells, function (cell) {
        var text = cell.textContent.replace(/\s+/g, " ").replace(/[▲▼]/g, "").trim();
        for (var i = 0; i < cell.colSpan; i++) labels.push(text);
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (cell.colSpan === 1 && labels[column] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", labels[column]);
            }
            column += cell.colSpan;
          });
        });
      });
      fit(table);
    });
  }
  // Stacked only when the columns would not fit their box: measured with the class off, in the
  // same frame (nothing is painted in between), outer tables before the ones nested in them.
  function fit(table) {
    var box = table.parentElement;
    table.classList.remove("stacked");
    if (box && table.scrollWidth > box.clientWidth + 1) table.classList.add("stacked");
  }
  function fitAll() {
    Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
      if (table.tHead) fit(table);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  // afterSwap, not afterSettle: it runs before the browser paints the new rows.
  document.addEventListener("htmx:afterSwap", function () { labelCells(document); });
  var fitFrame = null;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(fitFrame);
    fitFrame = requestAnimationFrame(fitAll);
  });

  // After a refused submit the focus goes to the first field marked invalid, so a keyboard or screen
  // reader user lands on what needs fixing (htmx would leave it on the body). Only for answers to a
  // form's post: a poll's refresh never moves the focus.
  function focusFirstInvalid(root) {
    var field = root && root.querySelector && root.querySelector("[aria-invalid=true]");
    if (field) field.focus();
    return Boolean(field);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.verb === "get") return;
    var target = event.detail.target;
    // An outerHTML swap replaced the target: look in what took its place (same id).
    var fresh = (target && target.id && document.getElementById(target.id)) || target;
    if (!(fresh && document.body.contains(fresh) && focusFirstInvalid(fresh))) return;
  });
  // Without htmx (a plain post answered with the form and its errors): the same on load.
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("main form[method=post] [aria-invalid=true]");
    if (form) form.focus();
  });

  // − and + beside a replicas number change the number only; Apply (a submit) applies it. The form
  // says when its number is not applied yet. One model on the list and on a deployment's page.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-step]");
    if (!button) return;
    var input = button.form && button.form.querySelector("input[name=replicas]");
    if (!input) return;
    if (Number(button.dataset.step) > 0) input.stepUp(); else input.stepDown();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form.scale input[name=replicas]")) return;
    var dirty = input.value !== input.defaultValue;
    input.form.classList.toggle("unapplied", dirty);
    var note = input.form.querySelector(".unapplied-note");
    if (note) note.textContent = dirty ? "Not applied yet: " + input.defaultValue + " → " + input.value : "";
  });

  // A poll never overwrites what someone is editing: it is skipped while a field in the polled
  // region differs from what the server sent (typed into, or stepped with − and +).
  function editing(region) {
    return Array.prototype.some.call(region.querySelectorAll("input, select, textarea"), function (field) {
      return field.type !== "hidden" && field.value !== field.defaultValue;
    });
  }
  document.addEventListener("htmx:confirm", function (event) {
    if (polling(event.detail.elt) && editing(event.detail.elt)) event.preventDefault();
  });

  // Lost contact: while the page's polling requests fail (no answer at all, or a gateway's), a
  // banner says since when the figures on the page are old; the next answer clears it. The charts
  // script, which polls with fetch, reports through console:contact and console:contact-lost.
  var lastContact = new Date();
  function twoDigits(n) { return (n < 10 ? "0" : "") + n; }
  function clock(date) {
    return twoDigits(date.getUTCHours()) + ":" + twoDigits(date.getUTCMinutes()) + ":" + twoDigits(date.getUTCSeconds()) + " UTC";
  }
  function contactLost() {
    var banner = document.getElementById("lost-contact");
    if (!banner) return;
    var time = banner.querySelector("time");
    time.textContent = clock(lastContact);
    time.setAttribute("datetime", lastContact.toISOString());
    banner.hidden = false;
  }
  function contact() {
    lastContact = new Date();
    var banner = document.getElementById("lost-contact");
    if (banner) banner.hidden = true;
  }
  function polling(elt) {
    var trigger = elt && elt.getAttribute && elt.getAttribute("hx-trigger");
    return Boolean(trigger && trigger.indexOf("every") !== -1);
  }
  // Remembered per request: after an outerHTML swap htmx reports the new element, not the poller.
  var polls = new WeakSet();
  var GONE = [0, 502, 504];
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (polling(event.detail.elt) && event.detail.xhr) polls.add(event.detail.xhr);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !polls.has(xhr)) return;
    if (GONE.indexOf(xhr.status) !== -1) contactLost();
    else contact();
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (event.detail.xhr && polls.has(event.detail.xhr)) contactLost();
  });
  document.addEventListener("console:contact-lost", contactLost);
  document.addEventListener("console:contact", contact);

  // The one-time token: focusing the field selects the whole key, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
