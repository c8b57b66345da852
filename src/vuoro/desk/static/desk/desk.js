/* Keyboard shortcuts of the desk. Keys typed into inputs are left alone. */
(function () {
  "use strict";

  var SELECTED = "is-selected";
  var remembered = null;

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.ticket-row"));
  }

  function selectedRow() {
    return document.querySelector("tr.ticket-row." + SELECTED);
  }

  function moveSelection(step) {
    var all = rows();
    if (!all.length) return;
    var current = selectedRow();
    var index = current ? all.indexOf(current) + step : 0;
    index = Math.max(0, Math.min(all.length - 1, index));
    if (current) current.classList.remove(SELECTED);
    all[index].classList.add(SELECTED);
    all[index].setAttribute("aria-selected", "true");
    if (current && current !== all[index]) current.removeAttribute("aria-selected");
    all[index].scrollIntoView({ block: "nearest" });
  }

  // The results are swapped in place by filters and bulk changes; keep the same row selected.
  document.addEventListener("htmx:beforeSwap", function () {
    var row = selectedRow();
    remembered = row ? row.getAttribute("data-reference") : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!remembered) return;
    rows().forEach(function (row) {
      if (row.getAttribute("data-reference") === remembered) row.classList.add(SELECTED);
    });
  });

  function openSelected() {
    var row = selectedRow();
    var link = row && row.querySelector("a.ticket-link");
    if (link) window.location.assign(link.href);
  }

  function toggleSelected() {
    var row = selectedRow();
    var box = row && row.querySelector("input[type=checkbox][name=ticket]");
    if (box) box.checked = !box.checked;
  }

  function focusReply(mode) {
    var body = document.getElementById("reply-body");
    if (!body) return;
    var form = document.getElementById("reply-form");
    if (form) form.setAttribute("data-mode", mode);
    body.focus();
  }

  function assignToMe() {
    var button = document.getElementById("assign-me");
    if (button) button.click();
  }

  function help() {
    return document.getElementById("shortcut-help");
  }

  function toggleHelp(show) {
    var box = help();
    if (!box) return;
    box.hidden = show === undefined ? !box.hidden : !show;
  }

  var queueKeys = {
    j: function () { moveSelection(1); },
    k: function () { moveSelection(-1); },
    o: openSelected,
    Enter: openSelected,
    x: toggleSelected,
    "/": function () {
      var search = document.getElementById("queue-search");
      if (search) { search.focus(); search.select(); }
    }
  };

  var ticketKeys = {
    r: function () { focusReply("reply"); },
    n: function () { focusReply("note"); },
    a: assignToMe
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") { toggleHelp(false); return; }
    if (typing(event.target)) return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    var onQueue = !!document.getElementById("queue-results");
    var action = (onQueue ? queueKeys : ticketKeys)[event.key];
    if (!action) return;
    if (event.key === "Enter" && !selectedRow()) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-close-help]")) toggleHelp(false);
    if (target.closest("[data-open-help]")) toggleHelp(true);
    if (target.id === "shortcut-help") toggleHelp(false);
    if (target.id === "send-note" || target.id === "send-reply") {
      var form = document.getElementById("reply-form");
      if (form) form.setAttribute("data-mode", target.id === "send-note" ? "note" : "reply");
    }
  });

  // Ctrl/Cmd+Enter in the reply box sends it as the mode chosen with r or n.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!event.target || event.target.id !== "reply-body") return;
    var form = document.getElementById("reply-form");
    var mode = form && form.getAttribute("data-mode");
    var button = document.getElementById(mode === "note" ? "send-note" : "send-reply");
    if (button) { event.preventDefault(); button.click(); }
  });
})();
