// agora's only script. htmx does the work; this does what attributes cannot
// under a strict CSP: show the socket's state, tell the server on every
// (re)connect which message the page has last, reset the composer after a
// send, send on Enter, and show times in the reader's own time zone.
(function () {
  "use strict";
  var connected = false;
  var reconnecting = {1006: true, 1011: true, 1012: true, 1013: true};

  function maxOf(selector, key) {
    var last = 0, els = document.querySelectorAll(selector);
    for (var i = 0; i < els.length; i++) last = Math.max(last, Number(els[i].dataset[key]) || 0);
    return last;
  }

  // Every (re)connect asks for what the page missed: ?after=<last message
  // id>&seq=<last room event it shows> (edits, deletes and reactions too).
  htmx.createWebSocket = function (url) {
    var u = new URL(url, location.href);
    u.searchParams.set("after", String(maxOf("#messages [data-id]", "id")));
    u.searchParams.set("seq", String(Math.max(maxOf("#messages[data-seq]", "seq"), maxOf("#messages [data-seq]", "seq"))));
    var s = new WebSocket(u.toString());
    s.binaryType = "blob";
    return s;
  };

  function setState(state, text) {
    var el = document.getElementById("status");
    if (el) { el.dataset.state = state; el.textContent = text || state; }
  }

  function newClientID() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
  }

  function localTimes(root) {
    var els = (root || document).querySelectorAll("time[datetime]:not([data-local])");
    for (var i = 0; i < els.length; i++) {
      var d = new Date(els[i].getAttribute("datetime"));
      if (isNaN(d)) continue;
      els[i].textContent = d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
      els[i].title = d.toLocaleString();
      els[i].dataset.local = "1";
    }
  }

  document.addEventListener("htmx:wsConnecting", function () { setState("reconnecting", connected ? "reconnecting…" : "connecting…"); });
  document.addEventListener("htmx:wsOpen", function () { connected = true; setState("connected"); });
  document.addEventListener("htmx:wsClose", function (e) {
    connected = false;
    var code = e.detail && e.detail.event && e.detail.event.code;
    if (reconnecting[code]) setState("reconnecting", "reconnecting…");
    else setState("offline");
  });

  // With the socket down, the composer posts the form the plain way (htmx has
  // already cancelled the browser's own submit) and typing signals are
  // dropped, instead of queueing in the page.
  document.addEventListener("htmx:wsConfigSend", function (e) {
    if (connected) return;
    e.preventDefault();
    if (e.target.id === "composer") e.target.submit();
  });

  document.addEventListener("htmx:wsAfterSend", function (e) {
    var form = e.target;
    if (!form || form.id !== "composer") return;
    form.elements.body.value = "";
    form.elements.client_msg_id.value = newClientID();
    var err = document.getElementById("composer-error");
    if (err) err.textContent = "";
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && t.id === "body" && e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (t.value.trim() !== "") t.form.requestSubmit();
    }
  });

  // The sidebar's badges. Every member elsewhere gets the same small mark
  // per new message in a room (and the mentioned a mention mark); whose
  // message it was is in data-author. Marks by others are added to the
  // badge's count, and all are then removed, so the page stays small.
  function countBadges() {
    var me = document.body.dataset.me || "";
    var lists = document.querySelectorAll("#nav-lists .marks");
    for (var i = 0; i < lists.length; i++) {
      var marks = lists[i].querySelectorAll("i"), unread = 0, mentions = 0;
      if (!marks.length) continue;
      for (var j = 0; j < marks.length; j++) {
        if (marks[j].dataset.author !== me) {
          if (marks[j].dataset.mention) mentions++; else unread++;
        }
      }
      lists[i].textContent = "";
      var a = lists[i].closest("a[data-room]");
      if (!a) continue;
      addToBadge(a, "unread", unread, "", "Unread messages");
      addToBadge(a, "mention", mentions, "@", "Mentions of you");
      a.classList.toggle("unread", !!a.querySelector(".unread-badge:not([hidden])"));
    }
  }

  // addToBadge adds n to the link's badge of that kind, making the badge if
  // the page had none (its count was 0).
  function addToBadge(a, kind, n, prefix, title) {
    if (n === 0) return;
    var el = a.querySelector("." + kind + "-badge");
    if (!el) {
      el = document.createElement("span");
      el.className = "badge " + kind + "-badge";
      el.id = (kind === "unread" ? "unread-" : "mentions-") + a.dataset.room;
      el.title = title;
      a.insertBefore(el, a.querySelector(".marks"));
    }
    var total = (Number(el.dataset.base) || 0) + n;
    el.dataset.base = String(total);
    el.textContent = prefix + (total > 99 ? "99+" : String(total));
    el.hidden = false;
  }

  document.addEventListener("htmx:afterSettle", function () { localTimes(); });
  document.addEventListener("htmx:wsAfterMessage", function () { localTimes(); countBadges(); });
  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    // Enter sends only with this script; without it the hint would be wrong.
    var hint = document.querySelector(".composer .hint");
    if (hint) hint.hidden = false;
  });
})();
