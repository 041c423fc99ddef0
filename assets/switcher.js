// The quick switcher: Ctrl+K (⌘K on a Mac) opens a dialog over every page
// that asks /go for the rooms, conversations and people matching what is
// typed, best first. Arrows choose, Enter opens, Esc closes (the dialog's
// own). Without this script /go is a page of links.
(function () {
  "use strict";
  var dialog, input, list, index = -1, timer = 0, asked = 0;

  function items() { return Array.prototype.slice.call(list.querySelectorAll("li[role=option]:not([aria-disabled])")); }

  function select(i) {
    var all = items();
    if (!all.length) { index = -1; input.removeAttribute("aria-activedescendant"); return; }
    index = (i + all.length) % all.length;
    all.forEach(function (li, k) { li.setAttribute("aria-selected", String(k === index)); });
    input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({block: "nearest"});
  }

  // load asks for the matches of the box's text; an answer to an older
  // question than the last one asked is dropped.
  function load() {
    var n = ++asked;
    fetch("/go?q=" + encodeURIComponent(input.value), {headers: {"HX-Request": "true"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (n !== asked) return;
        var got = new DOMParser().parseFromString(html, "text/html").querySelectorAll("#go-results > li");
        list.textContent = "";
        // Options hold text, not the page's links: a listbox's options
        // are chosen from the box, never focused themselves.
        Array.prototype.forEach.call(got, function (li, k) {
          var a = li.querySelector("a");
          if (!a) return;
          var opt = document.createElement("li");
          opt.id = "switcher-opt-" + k;
          opt.setAttribute("role", "option");
          opt.dataset.href = a.getAttribute("href");
          opt.dataset.kind = li.dataset.kind || "";
          Array.prototype.forEach.call(a.children, function (span) { opt.appendChild(document.importNode(span, true)); });
          list.appendChild(opt);
        });
        if (!list.children.length) {
          var none = document.createElement("li");
          none.className = "empty";
          none.setAttribute("role", "option");
          none.setAttribute("aria-disabled", "true");
          none.textContent = "Nothing matches.";
          list.appendChild(none);
        }
        select(0);
      }, function () {});
  }

  function open() {
    if (!dialog.open) dialog.showModal();
    input.value = "";
    input.focus();
    load();
  }

  function go() {
    var all = items();
    var href = index >= 0 && all[index] && all[index].dataset.href;
    if (href) location.assign(href);
  }

  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === "k" || e.key === "K")) {
      if (!dialog) return;
      e.preventDefault();
      open();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("switcher");
    input = document.getElementById("switcher-q");
    list = document.getElementById("switcher-list");
    if (!dialog || !input || !list || typeof dialog.showModal !== "function") { dialog = null; return; }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(load, 60); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); select(index + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); select(index - 1); }
      else if (e.key === "Enter" && index >= 0) { e.preventDefault(); go(); }
    });
    list.addEventListener("click", function (e) {
      var li = e.target.closest("li[role=option]");
      if (li) { e.preventDefault(); select(items().indexOf(li)); go(); }
    });
    // A click on the backdrop (outside the dialog's box) closes it.
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    var link = document.getElementById("go-link");
    if (link) {
      link.addEventListener("click", function (e) {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        open();
      });
    }
  });
})();
