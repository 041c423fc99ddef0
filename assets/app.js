// agora's only script. htmx does the work; this does what attributes cannot
// under a strict CSP, and everything here is an improvement on a page that
// works without it: the socket's state; the last message id on every
// (re)connect; a composer that keeps the text until the server has the
// message, with drafts per room, a length counter and mention completion;
// keys (Enter sends, Up edits your last message, Escape closes what is open);
// the reader's time zone, day lines and runs of one author grouped; a "jump
// to latest" button; unread counts in the title and the icon; notifications
// and a sound for mentions and direct messages, if asked for.
(function () {
  "use strict";
  var connected = false;
  var sock = null; // the room's socket, for sending what waited in the outbox
  var reconnecting = {1006: true, 1011: true, 1012: true, 1013: true};
  var me = document.body.dataset.me || "";
  var baseTitle = document.title;
  var groupGap = 5 * 60 * 1000; // a run of one author's messages closer than this is one group

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function store(kind) { try { return window[kind]; } catch (e) { return null; } }
  function roomSlug() { var r = $(".main.room"); return r ? r.dataset.room : ""; }

  function maxOf(selector, key) {
    var last = 0, els = document.querySelectorAll(selector);
    for (var i = 0; i < els.length; i++) last = Math.max(last, Number(els[i].dataset[key]) || 0);
    return last;
  }

  function lastID() { return maxOf("#messages [data-id]", "id"); }

  // Every (re)connect asks for what the page missed: ?after=<last message
  // id>&seq=<last room event it shows> (edits, deletes and reactions too).
  if (window.htmx) {
    htmx.createWebSocket = function (url) {
      var u = new URL(url, location.href);
      u.searchParams.set("after", String(lastID()));
      u.searchParams.set("seq", String(Math.max(maxOf("#messages[data-seq]", "seq"), maxOf("#messages [data-seq]", "seq"))));
      var s = new WebSocket(u.toString());
      s.binaryType = "blob";
      sock = s;
      return s;
    };
  }

  // setState keeps #status's data-state, and shows it only while the page
  // is not connected: "connected" is the normal case and says nothing, and
  // the first connection after the page loads is too quick to announce.
  function setState(state, text) {
    var el = $("#status");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text || state;
    el.hidden = state === "connected" || (state === "reconnecting" && !everConnected);
  }
  var everConnected = false;

  function newClientID() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
  }

  // ---- Times, days and groups -------------------------------------------

  function dayKey(d) { return d.getFullYear() + "-" + d.getMonth() + "-" + d.getDate(); }

  // The page's language (<html lang>) names days and months. An English
  // page keeps the browser's own way, as it always has; a page in another
  // language is written in the browser's language where that is the
  // page's (de-AT on a German page), else in the page's (handlers/zone.go
  // makes the same choice for the times it writes).
  var root = document.documentElement, pageLang = root.lang || "en", browserLang = navigator.language || "";
  var clockLang = pageLang === "en" || browserLang.split("-")[0].toLowerCase() === pageLang ? browserLang : pageLang;
  var locales = pageLang === "en" ? [] : [clockLang];

  function dayLabel(d) {
    var now = new Date(), y = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (dayKey(d) === dayKey(now)) return root.dataset.today || "Today";
    if (dayKey(d) === dayKey(y)) return root.dataset.yesterday || "Yesterday";
    return fmtDay(d, d.getFullYear() !== now.getFullYear());
  }

  // Formatting a time with toLocale*String makes a formatter each call: one
  // of each, made once, is several times cheaper on a page of messages. They
  // are made when first needed: the first costs the browser its time-zone
  // and language data (some 15 ms here, four times that on a phone), and a
  // room page whose times came written for this reader needs none.
  var timeFmt = null, fullFmt = null, dateFmt = null, dayFmt = null, yearDayFmt = null;
  function fmtDay(d, withYear) {
    if (withYear) {
      if (!yearDayFmt) yearDayFmt = new Intl.DateTimeFormat(locales, {weekday: "long", day: "numeric", month: "long", year: "numeric"});
      return yearDayFmt.format(d);
    }
    if (!dayFmt) dayFmt = new Intl.DateTimeFormat(locales, {weekday: "long", day: "numeric", month: "long"});
    return dayFmt.format(d);
  }
  function fmtTime(d) {
    if (!timeFmt) timeFmt = new Intl.DateTimeFormat(locales, {hour: "2-digit", minute: "2-digit"});
    return timeFmt.format(d);
  }
  function fmtDate(d) {
    if (!dateFmt) dateFmt = new Intl.DateTimeFormat(locales, {dateStyle: "medium", timeStyle: "short"});
    return dateFmt.format(d);
  }
  function fmtFull(d) {
    if (!fullFmt) fullFmt = new Intl.DateTimeFormat(locales, {dateStyle: "full", timeStyle: "short"});
    return fullFmt.format(d);
  }
  var times = new WeakMap();

  function timeOf(el) {
    if (times.has(el)) return times.get(el);
    var t = el.querySelector("time[datetime]");
    var d = t ? new Date(t.getAttribute("datetime")) : null;
    times.set(el, d);
    return d;
  }

  // localTimes writes times in the reader's zone and language: a message's
  // as the time of day (its day is on the day line above it), any other
  // (search results, sessions, tokens, admin lists) with its date. Those
  // the server wrote so already (data-local, see views.Clock) are kept,
  // unless their zone's offset is not the browser's: the reader has moved.
  var clockStale = false;
  function localTimes(root) {
    var els = $$("time[datetime]:not([data-local]), time[data-off]", root);
    for (var i = 0; i < els.length; i++) {
      var el = els[i], d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) continue;
      if (el.dataset.off !== undefined) {
        var right = Number(el.dataset.off) === -d.getTimezoneOffset();
        delete el.dataset.off;
        if (right) continue;
        clockStale = true;
      }
      el.textContent = el.closest(".message, .notice") ? fmtTime(d) : fmtDate(d);
      el.title = fmtFull(d);
      el.dataset.local = "1";
    }
  }

  // The reader's clock goes to the server in two cookies, so the next room
  // page comes with its day lines and times as this script would write them
  // (see handlers/zone.go): the zone, and the language with how it writes
  // hours, given only when this browser writes them as the server would
  // ("13:05" or "01:05 PM"). Checked whenever this page made the formatter
  // anyway; otherwise only when missing, stale or the language changed.
  function cookie(name) {
    var m = ("; " + document.cookie).match(new RegExp("; " + name + "=([^;]*)"));
    return m ? m[1] : null;
  }
  function setCookie(name, value) {
    if (cookie(name) === value) return;
    document.cookie = name + "=" + value + "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
  }
  // rememberClockSoon runs rememberClock now if this page has made a
  // formatter anyway, and otherwise when the reader first touches a key or
  // the screen, or leaves: the cookies serve the next page, and making the
  // first formatter would cost the loading page its slowest task.
  function rememberClockSoon() {
    if (timeFmt || clockStale) { rememberClock(); return; }
    var done = false;
    function once() {
      if (done) return;
      done = true;
      rememberClock();
    }
    document.addEventListener("pointerdown", once, {capture: true, passive: true, once: true});
    document.addEventListener("keydown", once, {capture: true, once: true});
    document.addEventListener("visibilitychange", function () { if (document.hidden) once(); });
  }
  function rememberClock() {
    var lang = clockLang;
    var hc = cookie("agora_hc");
    if (!timeFmt && !clockStale && cookie("agora_tz") && hc && hc.slice(0, hc.lastIndexOf(":")) === lang) return;
    fmtTime(new Date());
    var z = timeFmt.resolvedOptions().timeZone;
    if (z && /^[A-Za-z0-9_+\/-]+$/.test(z)) setCookie("agora_tz", z);
    var am = fmtTime(new Date(2020, 0, 6, 1, 5)), pm = fmtTime(new Date(2020, 0, 6, 13, 5));
    var way = am === "01:05" && pm === "13:05" ? "h23" : /^01:05\sAM$/.test(am) && /^01:05\sPM$/.test(pm) ? "h12" : "none";
    if (/^[A-Za-z0-9-]*$/.test(lang)) setCookie("agora_hc", lang + ":" + way);
  }

  // decorate puts a line above each day's first message and groups runs of
  // one author's messages, from what each fragment carries (data-author and
  // its time): the same for loaded and live messages, and redone after every
  // change, so an edit, a delete or older messages loaded above keep it right.
  function decorate() {
    var list = $("#messages");
    if (!list) return;
    var keep = new Set();
    var prevDay = "", prev = null;
    var kids = Array.prototype.slice.call(list.children);
    for (var i = 0; i < kids.length; i++) {
      var el = kids[i];
      if (!el.dataset.id) { if (el.id === "new-messages") prev = null; continue; }
      var d = timeOf(el);
      if (!d || isNaN(d)) { prev = null; continue; }
      var key = dayKey(d);
      if (key !== prevDay) {
        var before = el.previousElementSibling && el.previousElementSibling.id === "new-messages" ? el.previousElementSibling : el;
        var label = dayLabel(d), line = before.previousElementSibling;
        // A line already in its place stays (the page comes with them, see
        // views/timeline.go), its words put in the reader's language if
        // they differ: the list is not moved when nothing about the days
        // changed.
        if (line && line.classList.contains("day-divider")) {
          if (line.textContent !== label) line.textContent = label;
        } else {
          line = document.createElement("div");
          line.className = "day-divider";
          line.setAttribute("role", "separator");
          line.textContent = label;
          list.insertBefore(line, before);
        }
        keep.add(line);
        prevDay = key;
        prev = null;
      }
      var isMsg = el.tagName === "ARTICLE";
      var grouped = !!(isMsg && prev && prev.author === el.dataset.author && d - prev.time < groupGap && d >= prev.time);
      if (el.classList.contains("grouped") !== grouped) el.classList.toggle("grouped", grouped);
      prev = isMsg ? {author: el.dataset.author, time: d} : null;
    }
    $$(".day-divider", list).forEach(function (line) { if (!keep.has(line)) line.remove(); });
  }

  // ---- The composer -----------------------------------------------------

  // The outbox: every message sent from the composer and not yet seen back,
  // in the order it was sent: [{id, text}]. It is kept in sessionStorage, so
  // a reload keeps it too, and all of it is sent again over every socket
  // that opens: a message whose socket went down before the server had it
  // arrives later, once (its client id makes a resend harmless), and one
  // sent while the server was unreachable waits here instead of becoming a
  // browser error page.
  var outbox = [];

  function outboxKey() { return "agora:outbox:" + roomSlug(); }
  function outboxHas(id) { return outbox.some(function (x) { return x.id === id; }); }

  function saveOutbox() {
    var s = store("sessionStorage");
    if (s && roomSlug()) {
      if (outbox.length) s.setItem(outboxKey(), JSON.stringify(outbox)); else s.removeItem(outboxKey());
    }
    showOutbox();
  }

  function loadOutbox() {
    var s = store("sessionStorage");
    if (!s || !roomSlug()) return;
    try {
      var v = JSON.parse(s.getItem(outboxKey()) || "[]");
      if (Array.isArray(v)) outbox = v.filter(function (x) { return x && typeof x.id === "string" && typeof x.text === "string"; });
    } catch (e) { outbox = []; }
    showOutbox();
  }

  // at is the composer's "send later" time, if any: a message waiting to
  // be scheduled is sent again as one.
  function queue(id, text, at) {
    if (!outboxHas(id)) outbox.push(at ? {id: id, text: text, at: at} : {id: id, text: text});
    saveOutbox();
  }

  // showOutbox marks the composer unsent while its text waits, and lists
  // above it the earlier messages that wait too.
  function showOutbox() {
    var f = composer(), note = $("#composer-unsent"), list = $("#outbox");
    if (!f) return;
    var waiting = !connected && outbox.length > 0;
    var inComposer = outbox.some(function (x) { return x.text === f.elements.body.value; });
    f.classList.toggle("unsent", waiting && inComposer);
    if (note) {
      note.hidden = !waiting;
      note.textContent = !waiting ? "" : (outbox.length === 1 ? "Not sent yet" : outbox.length + " messages not sent yet") +
        ": no connection to the server. " + (outbox.length === 1 ? "It is" : "They are") + " sent as soon as it is back.";
    }
    if (list) {
      list.textContent = "";
      outbox.forEach(function (x) {
        if (x.text === f.elements.body.value) return;
        var li = document.createElement("li");
        li.textContent = x.text;
        list.appendChild(li);
      });
      list.hidden = !waiting || !list.children.length;
    }
  }

  // sendOutbox sends everything waiting, in order, over the open socket as
  // htmx-ext-ws would have sent the composer.
  function sendOutbox() {
    if (!sock || sock.readyState !== 1) return;
    outbox.forEach(function (x) {
      sock.send(JSON.stringify({body: x.text, client_msg_id: x.id, send_at: x.at || "",
        HEADERS: {"HX-Request": "true", "HX-Trigger": "composer", "HX-Current-URL": location.href}}));
    });
  }

  // postPlain posts the composer without the socket (it is down, and the
  // outbox empty, so nothing would overtake an earlier message): the room
  // page again on success, the server's reason beside the composer on a
  // refusal, and into the outbox when the server cannot be reached.
  function postPlain(f) {
    var id = f.elements.client_msg_id.value, text = f.elements.body.value;
    var s = store("sessionStorage");
    var data = new FormData(f);
    if (data.get("send_at")) data.set("send_at", sendAtOf(f));
    fetch(f.action, {method: "POST", body: new URLSearchParams(data), credentials: "same-origin"}).then(function (res) {
      if (res.ok) {
        if (s) s.removeItem(draftKey());
        location.assign(res.url || location.href);
        return;
      }
      return res.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var why = doc.querySelector("#composer-error, #error, .error");
        var err = $("#composer-error");
        if (err) err.textContent = (why && why.textContent.trim()) || "The server refused the message (" + res.status + ").";
      });
    }, function () {
      queue(id, text);
    });
  }

  function composer() { return $("#composer"); }
  function composer() { return $("#composer"); }
  function draftKey() { return "agora:draft:" + roomSlug(); }

  function saveDraft() {
    var f = composer(), s = store("sessionStorage");
    if (!f || !s) return;
    var v = f.elements.body.value;
    if (v) s.setItem(draftKey(), v); else s.removeItem(draftKey());
  }

  function restoreDraft() {
    var f = composer(), s = store("sessionStorage");
    if (!f || !s) return;
    var v = s.getItem(draftKey());
    if (v && !f.elements.body.value) f.elements.body.value = v;
  }

  function updateCount() {
    var f = composer(), out = $("#composer-count");
    if (!f || !out) return;
    var max = Number(f.elements.body.getAttribute("maxlength")) || 4000;
    var n = Array.from(f.elements.body.value).length;
    out.classList.toggle("over", n > max);
    if (n > max) out.textContent = (n - max) + " characters over the limit of " + max;
    else if (n > max - 500) out.textContent = (max - n) + " characters left";
    else out.textContent = "";
  }

  // The server has the message when it comes back with its client id: only
  // then is the text cleared (unless something else was typed since).
  function confirmSent() {
    var f = composer(), changed = false;
    outbox = outbox.filter(function (x) {
      var mine = $$('#messages [data-client-id="' + x.id + '"]').filter(function (e) { return e.dataset.author === me; });
      // A command that sends no message is done when the server says so.
      var said = $("#composer-said");
      if (!mine.length && !(said && said.dataset.done === x.id)) return true;
      changed = true;
      if (f && f.elements.client_msg_id.value === x.id) f.elements.client_msg_id.value = newClientID();
      if (f && f.elements.body.value === x.text) {
        f.elements.body.value = "";
        if (f.elements.send_at) f.elements.send_at.value = "";
        var later = $("#send-later");
        if (later) later.open = false;
        var err = $("#composer-error");
        if (err) err.textContent = "";
        saveDraft();
        updateCount();
      }
      return false;
    });
    if (changed) saveOutbox();
  }

  // A refusal told over the socket is about the text in the composer: it
  // leaves the outbox (the text stays in the composer for another try).
  function refused() {
    var f = composer(), err = $("#composer-error");
    if (!f || !err || !err.textContent.trim()) return;
    var before = outbox.length;
    outbox = outbox.filter(function (x) { return x.text !== f.elements.body.value; });
    if (outbox.length !== before) saveOutbox();
  }

  // Before htmx reads the form: the id of this very text if it is waiting
  // already, a fresh one if the current id went with another text.
  function chooseClientID(f) {
    var text = f.elements.body.value, idEl = f.elements.client_msg_id;
    for (var i = 0; i < outbox.length; i++) {
      if (outbox[i].text === text) { idEl.value = outbox[i].id; return; }
    }
    if (outboxHas(idEl.value)) idEl.value = newClientID();
  }

  // ---- Keyboard -----------------------------------------------------------

  var focusAfter = null; // {id, sel, at}: what takes the focus once a swap settles
  var editing = null;    // {id, back}: the message being edited, and where the focus returns after

  function focusLater(id, sel) { focusAfter = {id: id, sel: sel, at: Date.now()}; }

  function applyFocus() {
    if (editing) {
      var ed = document.getElementById(editing.id);
      if (ed && ed.tagName === "FORM") editing.open = true;
      else if (editing.open || !ed) {
        var back = editing.back;
        editing = null;
        if (back && document.contains(back)) back.focus();
        else if (ed && ed.querySelector(".more")) ed.querySelector(".more").focus();
      }
    }
    if (!focusAfter) return;
    if (Date.now() - focusAfter.at > 5000) { focusAfter = null; return; }
    var el = document.getElementById(focusAfter.id);
    var target = el && (focusAfter.sel ? el.querySelector(focusAfter.sel) : el);
    if (!target) return;
    focusAfter = null;
    var menu = target.closest(".menu");
    if (menu) fitMenu(menu);
    target.focus();
    if (target.tagName === "TEXTAREA") target.setSelectionRange(target.value.length, target.value.length);
  }

  // fitMenu opens a message's menu upwards when it would reach past the
  // bottom of the list (the last message's, wrapped to rows on a phone).
  function fitMenu(menu) {
    var list = scroller();
    if (!list) return;
    if (menu.getBoundingClientRect().bottom > list.getBoundingClientRect().bottom) menu.classList.add("up");
  }

  function startEdit(id, back) {
    editing = {id: id, back: back};
    focusLater(id, "textarea");
  }

  function editLast() {
    var mine = $$("#messages article.message:not(.deleted)").filter(function (e) { return e.dataset.author === me; });
    var last = mine[mine.length - 1];
    if (!last || !window.htmx) return false;
    startEdit(last.id, document.activeElement);
    htmx.ajax("GET", "/messages/" + last.dataset.id + "/edit", {target: "#" + last.id, swap: "outerHTML"});
    return true;
  }

  // closeOpen closes the innermost open thing around t (a menu, the edit
  // form, the room's menu) and reports whether there was one.
  function closeOpen(t) {
    if (!t.closest) return false;
    var details = t.closest("details[open]") || $("details.room-menu[open]");
    if (details) { details.open = false; details.querySelector("summary").focus(); return true; }
    var menu = t.closest(".menu");
    var msg = menu && menu.closest("[id^='message-']");
    if (msg && menu.querySelector(".close")) {
      focusLater(msg.id, ".more");
      menu.querySelector(".close").click();
      return true;
    }
    var form = t.closest("form.editing");
    var cancel = form && form.querySelector("a[hx-get]");
    if (cancel) {
      if (!editing || editing.id !== form.id) editing = {id: form.id, back: null};
      cancel.click();
      return true;
    }
    return false;
  }

  // ---- Quote and Copy link ---------------------------------------------------

  // quoteMessage puts the message's text, quoted ("> " before each line, as
  // chat.Quote does for the page without this script), at the end of the
  // composer, closes the menu and leaves the focus in the composer.
  function quoteMessage(msg, menu) {
    var f = composer(), b = msg && msg.querySelector(".body");
    if (!f || !b) return;
    var text = (b.innerText || b.textContent).trim();
    if (Array.from(text).length > 1000) text = Array.from(text).slice(0, 1000).join("").trim() + "…";
    var q = text.split("\n").map(function (l) { return l ? "> " + l : ">"; }).join("\n") + "\n";
    var body = f.elements.body;
    body.value = body.value && !/\n$/.test(body.value) ? body.value + "\n" + q : body.value + q;
    var close = menu && menu.querySelector(".close");
    if (close) close.click();
    body.focus();
    body.setSelectionRange(body.value.length, body.value.length);
    saveDraft();
    updateCount();
  }

  // copyLink copies a message's permalink and says so, in the link and to a
  // screen reader.
  function copyLink(a) {
    var url = new URL(a.getAttribute("href"), location.href).href;
    var done = function () {
      a.textContent = "Link copied";
      announce("Link copied");
    };
    var fallback = function () {
      var t = document.createElement("textarea");
      t.value = url;
      t.setAttribute("readonly", "");
      t.className = "visually-hidden";
      document.body.appendChild(t);
      t.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      t.remove();
      a.focus();
      if (ok) done(); else window.prompt("Copy this link:", url);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, fallback);
    else fallback();
  }

  // ---- The message list: one Tab stop -------------------------------------

  // The list keeps the keys of the ARIA feed pattern (its role stays log:
  // a feed may hold only articles, and the day lines are separators): one
  // of its entries is in the Tab order, the latest unless the focus is in
  // the list; Up and Down (and Page Up, Page Down, Home,
  // End) move between entries; Tab from an entry reaches that entry's own
  // links and buttons, and those of every other entry are out of the Tab
  // order, so the list costs a keyboard user one Tab, not several per
  // message. Without this script every link stays reachable as usual.
  var feedActive = null; // the id of the entry in the Tab order
  var roved = new WeakSet();
  var controlSel = "a[href], button, input, textarea, select, summary, [tabindex]";

  function entries() { return $$("#messages > [data-id]"); }

  function setTabbable(entry, on) {
    entry.tabIndex = on ? 0 : -1;
    $$(controlSel, entry).forEach(function (c) {
      if (on) { if (c.dataset.roved) { c.removeAttribute("tabindex"); delete c.dataset.roved; } }
      else if (!c.hasAttribute("tabindex") || c.dataset.roved) { c.tabIndex = -1; c.dataset.roved = "1"; }
    });
  }

  // rove brings entries new to the page into the pattern, and keeps one
  // entry (the active one, or the last) in the Tab order.
  function rove() {
    var list = $("#messages");
    if (!list) return;
    // While the focus is elsewhere the latest entry is the one in the Tab
    // order, so the list is entered where the conversation is.
    var all = entries(), active = list.contains(document.activeElement) && feedActive && document.getElementById(feedActive);
    if (!active || active.parentNode !== list) active = all[all.length - 1];
    for (var i = 0; i < all.length; i++) {
      var el = all[i];
      var want = el === active;
      if (!roved.has(el) || (el.tabIndex === 0) !== want) {
        roved.add(el);
        if (el.tagName !== "ARTICLE" && el.tagName !== "FORM") el.setAttribute("role", "article");
        setTabbable(el, want);
      }
    }
    if (active) feedActive = active.id;
  }

  function activate(entry, focus) {
    if (!entry) return;
    var was = feedActive && document.getElementById(feedActive);
    if (was && was !== entry) setTabbable(was, false);
    feedActive = entry.id;
    setTabbable(entry, true);
    if (focus) { entry.focus(); entry.scrollIntoView({block: "nearest"}); }
  }

  function feedKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var t = e.target;
    if (t.tagName === "TEXTAREA" || t.tagName === "INPUT") return;
    var entry = t.closest("#messages > [data-id]");
    if (!entry) return;
    var all = entries(), i = all.indexOf(entry), to = -1;
    switch (e.key) {
      case "ArrowUp": to = i - 1; break;
      case "ArrowDown": to = i + 1; break;
      case "PageUp": to = i - 5; break;
      case "PageDown": to = i + 5; break;
      case "Home": to = 0; break;
      case "End": to = all.length - 1; break;
      default: return;
    }
    e.preventDefault();
    to = Math.max(0, Math.min(all.length - 1, to));
    activate(all[to], true);
  }

  document.addEventListener("focusin", function (e) {
    if (e.target && e.target.id === "body") completes(e.target);
    var entry = e.target.closest && e.target.closest("#messages > [data-id]");
    if (entry && entry.id !== feedActive) activate(entry, false);
  });

  // ---- Mention completion ---------------------------------------------------

  var mentionState = null; // {start, end, items, index}

  function members() {
    return $$("#member-list li[data-user]").map(function (li) {
      var n = li.querySelector(".member-name");
      return {user: li.dataset.user, name: n ? n.textContent : li.dataset.user, li: li};
    });
  }

  function closeMentions() {
    var list = $("#mention-list"), body = $("#body");
    mentionState = null;
    if (list) { list.hidden = true; list.textContent = ""; }
    if (body) body.removeAttribute("aria-activedescendant");
  }

  // commands are the composer's slash commands, listed by the server in
  // #command-help: what the list offers once "/" starts the text.
  function commands(q) {
    return $$("#command-help li[data-command]").filter(function (li) {
      return li.dataset.command.indexOf(q) === 0;
    }).map(function (li) {
      return {insert: "/" + li.dataset.command + " ", name: li.dataset.usage, handle: li.textContent, user: li.dataset.command};
    });
  }

  // completes marks the composer as offering a list, once it is used:
  // nothing is done for it at load.
  function completes(body) {
    if (body.hasAttribute("aria-controls")) return;
    body.setAttribute("aria-autocomplete", "list");
    body.setAttribute("aria-controls", "mention-list");
  }

  function updateMentions() {
    var body = $("#body"), list = $("#mention-list");
    if (!body || !list) return;
    completes(body);
    var upto = body.value.slice(0, body.selectionStart);
    var m = /(^|\s)@([A-Za-z0-9_-]{0,32})$/.exec(upto), c = /^\/([a-z]{0,20})$/.exec(upto);
    if (!m && !c) { closeMentions(); return; }
    var items;
    if (c) {
      // Bots' commands could make it long: at most as many as a phone
      // shows unscrolled; typing narrows it, and /help lists them all.
      items = commands(c[1]).slice(0, 16);
    } else {
      var q = m[2].toLowerCase();
      items = members().filter(function (x) {
        return x.user !== me && (x.user.indexOf(q) === 0 || x.name.toLowerCase().indexOf(q) === 0);
      }).slice(0, 8);
    }
    if (!items.length) { closeMentions(); return; }
    mentionState = {start: c ? 0 : upto.length - m[2].length - 1, end: upto.length, items: items, index: 0};
    list.textContent = "";
    list.setAttribute("aria-label", c ? "Commands" : "Members to mention");
    items.forEach(function (x, i) {
      var li = document.createElement("li");
      li.id = "mention-opt-" + i;
      li.setAttribute("role", "option");
      li.dataset.user = x.user;
      var av = x.li && x.li.querySelector(".avatar");
      if (av) li.appendChild(av.cloneNode(true));
      var name = document.createElement("span");
      name.textContent = x.name;
      var handle = document.createElement("span");
      handle.className = "member-handle";
      handle.textContent = x.insert ? x.handle : "@" + x.user;
      li.appendChild(name);
      li.appendChild(handle);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); mentionState.index = i; acceptMention(); });
      list.appendChild(li);
    });
    list.hidden = false;
    selectMention(0);
  }

  function selectMention(i) {
    if (!mentionState) return;
    var n = mentionState.items.length;
    mentionState.index = (i + n) % n;
    $$("#mention-list li").forEach(function (li, k) { li.setAttribute("aria-selected", String(k === mentionState.index)); });
    $("#body").setAttribute("aria-activedescendant", "mention-opt-" + mentionState.index);
  }

  function acceptMention() {
    var body = $("#body");
    if (!mentionState || !body) return;
    var x = mentionState.items[mentionState.index];
    var v = body.value, ins = x.insert || "@" + x.user + " ";
    body.value = v.slice(0, mentionState.start) + ins + v.slice(mentionState.end);
    var at = mentionState.start + ins.length;
    body.setSelectionRange(at, at);
    closeMentions();
    saveDraft();
  }

  // ---- Reading: jump to latest, announcements -------------------------------

  var unseen = 0;
  function scroller() { return $(".scroller"); }
  function atBottom() { var s = scroller(); return !s || s.scrollTop > -120; }

  function updateJump() {
    var b = $("#jump-latest");
    if (!b) return;
    if (atBottom()) { unseen = 0; b.hidden = true; return; }
    b.hidden = false;
    b.textContent = unseen > 0 ? (unseen === 1 ? "1 new message ↓" : unseen + " new messages ↓") : "Jump to latest ↓";
  }

  function announce(text) {
    var a = $("#announce");
    if (a) a.textContent = text;
  }

  var seenID = 0; // the highest message id this page has dealt with

  function newArrivals() {
    var fresh = $$("#messages [data-id]").filter(function (e) { return Number(e.dataset.id) > seenID && e.id.indexOf("message-") === 0; });
    fresh.forEach(function (e) { seenID = Math.max(seenID, Number(e.dataset.id)); });
    return fresh;
  }

  function textOf(el) {
    var b = el.querySelector(".body") || el;
    return b.textContent.replace(/\s+/g, " ").trim().slice(0, 200);
  }

  function onArrivals(fresh) {
    var others = fresh.filter(function (e) { return e.dataset.author !== me; });
    if (!others.length) return;
    if (!atBottom()) { unseen += others.length; updateJump(); }
    if (others.length <= 3) {
      announce(others.map(function (e) {
        var a = e.querySelector(".author");
        return (a ? a.textContent + ": " : "") + textOf(e);
      }).join(". "));
    } else {
      announce(others.length + " new messages");
    }
    var room = $(".main.room");
    var dm = room && room.dataset.dm === "true";
    others.forEach(function (e) {
      var mentioned = (" " + (e.dataset.mentions || "") + " ").indexOf(" " + me + " ") >= 0;
      if (document.hidden) hiddenNew++;
      if ((dm || mentioned) && document.hidden) {
        var a = e.querySelector(".author");
        alertUser((a ? a.textContent : "Someone") + (dm ? "" : " mentioned you"), textOf(e), "agora-" + e.id);
      }
    });
    updateUnread();
  }

  // ---- Knowing something happened: title, icon, notifications, sound -----

  var hiddenNew = 0;
  var iconLink = $('link[rel="icon"]');
  var iconHref = iconLink ? iconLink.href : "";
  var iconImg = null, shownCount = -1;

  function sidebarCounts() {
    var out = {};
    $$("#sidebar a[data-room]").forEach(function (a) {
      var u = a.querySelector(".unread-badge"), m = a.querySelector(".mention-badge");
      out[a.dataset.room] = {
        unread: u ? parseInt(u.textContent, 10) || 0 : 0,
        mentions: m ? parseInt(m.textContent.replace("@", ""), 10) || 0 : 0,
        dm: (a.getAttribute("href") || "").indexOf("/dm/") === 0,
        name: (a.querySelector(".nav-name") || a).textContent.trim()
      };
    });
    return out;
  }
  var lastCounts = sidebarCounts();

  function unreadTotal() {
    var c = sidebarCounts(), n = 0;
    for (var k in c) n += c[k].unread;
    return n + hiddenNew;
  }

  function updateUnread() {
    var n = unreadTotal();
    document.title = (n > 0 ? "(" + (n > 99 ? "99+" : n) + ") " : "") + baseTitle;
    drawIcon(n);
  }

  function drawIcon(n) {
    if (!iconLink || n === shownCount) return;
    shownCount = n;
    if (n === 0) { iconLink.href = iconHref; return; }
    var paint = function () {
      var c = document.createElement("canvas");
      c.width = c.height = 64;
      var g = c.getContext("2d");
      if (!g) return;
      g.drawImage(iconImg, 0, 0, 64, 64);
      g.fillStyle = "#c9353a";
      g.beginPath();
      g.arc(44, 20, 20, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = "#fff";
      g.font = "bold 26px system-ui, sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText(n > 9 ? "9+" : String(n), 44, 21);
      iconLink.href = c.toDataURL("image/png");
    };
    if (iconImg && iconImg.complete) { paint(); return; }
    iconImg = new Image();
    iconImg.onload = paint;
    iconImg.src = iconHref;
  }

  function settings() { return store("localStorage"); }
  function wantNotify() { var s = settings(); return !!s && s.getItem("agora:notify") === "on" && "Notification" in window && Notification.permission === "granted"; }
  function wantSound() { var s = settings(); return !!s && s.getItem("agora:sound") === "on"; }

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ac = new Ctx(), o = ac.createOscillator(), g = ac.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.08, ac.currentTime);
      g.gain.exponentialRampToValueAtTime(0.0001, ac.currentTime + 0.25);
      o.connect(g); g.connect(ac.destination);
      o.start(); o.stop(ac.currentTime + 0.25);
      o.onended = function () { ac.close(); };
    } catch (e) { /* no sound then */ }
  }

  function alertUser(title, body, tag) {
    if (wantSound()) beep();
    if (wantNotify()) {
      try { new Notification(title, {body: body, tag: tag}); } catch (e) { /* not allowed here */ }
    }
  }

  // The sidebar follows other rooms live: a mention or a direct message
  // there shows as a count going up.
  function sidebarChanged() {
    var now = sidebarCounts();
    for (var k in now) {
      var was = lastCounts[k] || {unread: 0, mentions: 0};
      if (now[k].mentions > was.mentions) alertUser("You were mentioned in " + now[k].name, "", "agora-room-" + k);
      else if (now[k].dm && now[k].unread > was.unread) alertUser("New message from " + now[k].name, "", "agora-room-" + k);
    }
    lastCounts = now;
    updateUnread();
  }

  function setupNotifySettings() {
    var box = $("#notify-settings");
    if (!box) return;
    box.hidden = false;
    var btn = $("#notify-toggle"), state = $("#notify-state"), snd = $("#sound-toggle");
    var s = settings();
    function show() {
      var supported = "Notification" in window;
      var on = supported && s && s.getItem("agora:notify") === "on" && Notification.permission === "granted";
      if (!supported) { btn.disabled = true; state.textContent = "This browser does not offer notifications."; return; }
      if (Notification.permission === "denied") state.textContent = "Notifications are blocked for this site in the browser's settings.";
      else state.textContent = on ? "On for mentions and direct messages." : "Off.";
      btn.textContent = on ? "Turn off notifications" : "Turn on notifications";
    }
    btn.addEventListener("click", function () {
      if (!s) return;
      if (s.getItem("agora:notify") === "on" && Notification.permission === "granted") { s.removeItem("agora:notify"); show(); return; }
      Notification.requestPermission().then(function (p) {
        if (p === "granted") s.setItem("agora:notify", "on");
        show();
      });
    });
    if (snd && s) {
      snd.checked = s.getItem("agora:sound") === "on";
      snd.addEventListener("change", function () {
        if (snd.checked) { s.setItem("agora:sound", "on"); beep(); } else s.removeItem("agora:sound");
      });
    }
    show();
  }

  // ---- Presence in the member list ---------------------------------------

  // The list was right when the page was made; someone who joined since
  // and comes online is added from #presence (which follows the room live).
  function syncMembers() {
    var list = $("#member-list");
    if (!list) return;
    var here = {};
    $$("#presence [data-user]").forEach(function (e) {
      here[e.dataset.user] = true;
      if (list.querySelector('li[data-user="' + e.dataset.user + '"]')) return;
      var li = document.createElement("li"), name = document.createElement("span"), handle = document.createElement("span");
      li.dataset.user = e.dataset.user;
      name.className = "member-name";
      name.textContent = e.firstChild ? e.firstChild.textContent : e.dataset.user;
      handle.className = "member-handle";
      handle.textContent = "@" + e.dataset.user;
      li.appendChild(name);
      li.appendChild(handle);
      list.appendChild(li);
      var n = $("#member-count");
      if (n) n.textContent = String(list.children.length);
    });
    $$("#member-list li[data-user]").forEach(function (li) {
      if (here[li.dataset.user]) li.dataset.online = "true"; else delete li.dataset.online;
    });
  }

  // ---- Events ---------------------------------------------------------------

  document.addEventListener("htmx:wsConnecting", function () { setState("reconnecting", connected ? "reconnecting…" : "connecting…"); });
  document.addEventListener("htmx:wsOpen", function () { connected = true; everConnected = true; setState("connected"); sendOutbox(); showOutbox(); if (document.hidden) sendVisibility(); });

  // The server pushes nothing of this room to a phone while this page shows
  // it: the socket says when the page is hidden (another tab, minimised) or
  // visible again. A socket is visible until it says otherwise.
  function sendVisibility() {
    if (!sock || sock.readyState !== 1) return;
    sock.send(JSON.stringify({visible: document.hidden ? "0" : "1", HEADERS: {"HX-Request": "true", "HX-Trigger": "visibility"}}));
  }
  document.addEventListener("visibilitychange", sendVisibility);
  document.addEventListener("htmx:wsClose", function (e) {
    connected = false;
    showOutbox();
    var ev = e.detail && e.detail.event;
    var code = ev && ev.code;
    if (reconnecting[code]) { setState("reconnecting", "reconnecting…"); return; }
    setState("offline");
    // Refused for good (1008: removed from the room, left it, signed out):
    // say why, instead of a page that quietly stopped.
    // Nothing waiting is sent again on a later socket: not a message to a
    // room one is out of, and never a "/leave" once one has rejoined.
    if (code === 1008) { outbox = []; saveOutbox(); }
    if (code === 1008 && ev.reason) {
      var banner = $("#room-banner");
      if (banner) {
        banner.textContent = "You are no longer connected to this room: " + ev.reason + ".";
        banner.hidden = false;
      }
    }
  });

  // With the socket down the composer's message waits in the outbox behind
  // any that wait already, or, if none do, is posted without the socket
  // (htmx has already cancelled the browser's own submit, which would end on
  // an error page with the server gone); typing signals are dropped instead
  // of queueing in the page.
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var form = e.target;
    if (connected) {
      if (form && form.id === "composer") {
        queue(form.elements.client_msg_id.value, form.elements.body.value, sendAtOf(form));
        if (e.detail.parameters.send_at) e.detail.parameters.send_at = sendAtOf(form);
      }
      return;
    }
    e.preventDefault();
    if (form.id !== "composer") return;
    if (outbox.length) queue(form.elements.client_msg_id.value, form.elements.body.value, sendAtOf(form));
    else postPlain(form);
  });

  // sendAtOf is the composer's "send later" time as an absolute one: the
  // field's is the browser's local time, which the server need not guess
  // (the zone's cookie may not be written yet).
  function sendAtOf(form) {
    var v = form.elements.send_at ? form.elements.send_at.value : "";
    var d = v ? new Date(v) : null;
    return d && !isNaN(d) ? d.toISOString() : v;
  }

  document.addEventListener("htmx:wsAfterSend", function (e) {
    var form = e.target;
    if (!form || form.id !== "composer") return;
    var err = $("#composer-error");
    if (err) err.textContent = "";
  });

  // ---- Emoji picker ----------------------------------------------------------

  // The picker's dialog opens from the composer's emoji button (the emoji
  // chosen goes into the message box at the cursor) or from a message's
  // "All emoji…" (the emoji chosen is a reaction, posted by htmx). Its grid
  // is fetched as it opens; the composer's is kept once fetched.
  var emojiBack = null;
  function openEmoji(forID, from) {
    var d = $("#emoji-dialog"), results = $("#emoji-results");
    if (!d || !d.showModal || !window.htmx) return false;
    var f = d.querySelector(".emoji-search");
    emojiBack = from;
    f.elements["for"].value = forID;
    var q = f.elements.q, had = results && results.dataset.for === (forID === "0" ? "composer" : forID);
    if (!had || q.value) {
      q.value = "";
      htmx.ajax("GET", "/emoji?for=" + forID, {target: "#emoji-results", swap: "outerHTML"});
    }
    d.showModal();
    q.focus();
    return true;
  }

  function closeEmoji() {
    var d = $("#emoji-dialog");
    if (d && d.open) d.close();
  }

  function insertAtCursor(ta, text) {
    ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, "end");
    ta.dispatchEvent(new Event("input", {bubbles: true}));
  }

  // A choice in the dialog is taken here, before htmx sees the submit (a
  // grid swapped in a moment ago may not be htmx's yet): in the composer's
  // picker the emoji goes into the message box; in a message's, it is posted
  // as a reaction, and the room shows it live.
  document.addEventListener("submit", function (e) {
    var grid = e.target.closest && e.target.closest("#emoji-dialog .emoji-results");
    if (!grid) return;
    e.preventDefault();
    e.stopPropagation();
    var body = $("#body"), emoji = e.submitter && e.submitter.value;
    if (!emoji) return;
    if (grid.dataset.for !== "composer") {
      htmx.ajax("POST", grid.getAttribute("action"), {values: {emoji: emoji}, swap: "none"}).then(closeEmoji);
      return;
    }
    emojiBack = body; // the message box has the focus after, not the button
    closeEmoji();
    if (body) { body.focus(); insertAtCursor(body, emoji); }
  }, true);

  document.addEventListener("close", function (e) {
    if (e.target && e.target.id === "emoji-dialog" && emojiBack && document.contains(emojiBack)) emojiBack.focus();
  }, true);

  // Arrow keys move through the grid: left and right by one, up and down
  // by a row.
  function emojiKeys(e) {
    var btn = e.target.closest && e.target.closest(".emoji-results .emoji-grid button");
    if (!btn || ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(e.key) < 0) return false;
    var all = $$(".emoji-grid button", btn.closest(".emoji-results")), i = all.indexOf(btn);
    var cols = all.filter(function (b) { return b.parentNode === btn.parentNode && b.offsetTop === btn.parentNode.firstElementChild.offsetTop; }).length || 1;
    var to = {ArrowLeft: i - 1, ArrowRight: i + 1, ArrowUp: i - cols, ArrowDown: i + cols}[e.key];
    if (to >= 0 && to < all.length) { e.preventDefault(); all[to].focus(); }
    return true;
  }

  document.addEventListener("submit", function (e) {
    if (e.target && e.target.id === "composer") chooseClientID(e.target);
  }, true);

  document.addEventListener("input", function (e) {
    if (e.target && e.target.id === "body") { saveDraft(); updateCount(); updateMentions(); if (outbox.length) showOutbox(); }
  });

  document.addEventListener("click", function (e) {
    // Unfolding "New room" or "Message someone" puts the cursor in its field.
    var fold = e.target.closest && e.target.closest(".side-new > summary");
    if (fold && !fold.parentNode.open) {
      requestAnimationFrame(function () {
        var field = fold.parentNode.querySelector("input:not([type=checkbox])");
        if (field) field.focus();
      });
    }
    // The actions link of a message is a plain link (to the message's page):
    // here its menu is fetched in its place. A click with a modifier key
    // opens the page as links do.
    var more = e.target.closest && e.target.closest(".more");
    if (more && window.htmx && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      var msg = more.closest("[id^='message-']");
      if (msg) focusLater(msg.id, ".menu button");
      htmx.ajax("GET", more.getAttribute("href"), {source: more, target: more, swap: "outerHTML"});
    }
    var quote = e.target.closest && e.target.closest(".menu .quote");
    if (quote && composer() && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      e.preventDefault();
      quoteMessage(quote.closest("[id^='message-']"), quote.closest(".menu"));
      return;
    }
    var copy = e.target.closest && e.target.closest(".menu .copy-link");
    if (copy && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      e.preventDefault();
      copyLink(copy);
      return;
    }
    var edit = e.target.closest && e.target.closest(".menu .edit");
    if (edit) {
      var m = edit.closest("[id^='message-']");
      if (m) startEdit(m.id, null);
    }
    if (e.target.closest && e.target.closest("#emoji-button")) { openEmoji("0", e.target.closest("#emoji-button")); return; }
    if (e.target.closest && e.target.closest("#emoji-dialog [data-close]")) { closeEmoji(); return; }
    var all = e.target.closest && e.target.closest(".menu .all-emoji");
    if (all && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      var msgOf = all.closest("[id^='message-']");
      if (msgOf && openEmoji(msgOf.dataset.id, msgOf.querySelector(".more") || all)) e.preventDefault();
      return;
    }
    var link = e.target.closest && e.target.closest("#jump-latest");
    if (link) { var s = scroller(); if (s) s.scrollTop = 0; unseen = 0; updateJump(); var b = $("#body"); if (b) b.focus(); }
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.isComposing) return;
    if (emojiKeys(e)) return;
    if (t && t.id === "body") {
      if (mentionState) {
        if (e.key === "ArrowDown") { e.preventDefault(); selectMention(mentionState.index + 1); return; }
        if (e.key === "ArrowUp") { e.preventDefault(); selectMention(mentionState.index - 1); return; }
        if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); acceptMention(); return; }
        if (e.key === "Escape") { e.preventDefault(); closeMentions(); return; }
      }
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        if (t.value.trim() !== "") t.form.requestSubmit();
        return;
      }
      if (e.key === "ArrowUp" && t.value === "" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
        if (editLast()) e.preventDefault();
        return;
      }
    }
    // In an edit form, Enter saves (Shift+Enter is a new line) and Escape
    // cancels (closeOpen, below).
    if (t && t.tagName === "TEXTAREA" && t.form && t.form.classList.contains("editing") &&
        e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      if (t.value.trim() !== "") t.form.requestSubmit();
      return;
    }
    if (e.key === "Escape" && t && closeOpen(t)) { e.preventDefault(); return; }
    if (t && t.closest && t.closest("#messages")) feedKey(e);
  });

  function afterChange() {
    dedupeReplies();
    localTimes();
    decorate();
    rove();
    $$("form.editing .hint[hidden]").forEach(function (h) { h.hidden = false; });
    syncMembers();
    applyFocus();
    confirmSent();
    var fresh = newArrivals();
    if (fresh.length) onArrivals(fresh);
    var now = JSON.stringify(sidebarCounts());
    if (now !== JSON.stringify(lastCounts)) sidebarChanged();
  }

  // ---- Threads ----------------------------------------------------------

  // A reply the server took (htmx posts the reply composer: 204) comes
  // back over the socket: the composer empties, with a fresh id for the
  // next one. A refused one keeps its text (the reason shows above it).
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.detail.elt;
    if (!f || f.id !== "reply-composer" || !e.detail.successful) return;
    f.elements.body.value = "";
    f.elements.client_msg_id.value = newClientID();
    var err = $("#reply-error");
    if (err) err.textContent = "";
  });

  // A reconnect catches up from the room's list, so a reply the open
  // thread already shows may come again: the first copy stays.
  function dedupeReplies() {
    var sink = $("#reply-sink");
    if (sink) sink.textContent = ""; // replies to threads this page does not show
    var seen = {};
    $$("#thread-replies > [id]").forEach(function (el) {
      if (seen[el.id]) el.remove(); else seen[el.id] = true;
    });
  }

  // In the reply box, Enter sends (Shift+Enter is a new line), as in the composer.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!t || t.id !== "reply-body" || e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
    e.preventDefault();
    if (t.value.trim() !== "") t.form.requestSubmit();
  });

  // ---- Read receipts -----------------------------------------------------

  // A page being looked at, scrolled to its newest message, tells the server
  // how far it is read (#read-signal, only where others see reads): at most
  // one signal a second however many messages come.
  var readUpTo = 0, readTimer = 0;
  function sendRead() {
    var form = $("#read-signal");
    // Where the page is scrolled is asked only when the timer fires: asked
    // here, as the socket opens, it forced a layout of the whole list.
    if (!form || readTimer || document.hidden || lastID() <= readUpTo) return;
    readTimer = setTimeout(function () {
      readTimer = 0;
      var id = lastID();
      if (!connected || document.hidden || !atBottom() || id <= readUpTo) return;
      readUpTo = id;
      form.elements.up_to.value = String(id);
      htmx.trigger(form, "read");
    }, 1000);
  }

  // A name that came twice to "Seen by" (a read sent as the page loaded
  // with it) shows once.
  function dedupeSeenBy() {
    var seen = {};
    $$("#seen-by-names > [data-reader]").forEach(function (li) {
      if (seen[li.dataset.reader]) li.remove(); else seen[li.dataset.reader] = true;
    });
  }

  document.addEventListener("htmx:wsOpen", sendRead);
  document.addEventListener("htmx:wsAfterMessage", function () { dedupeSeenBy(); sendRead(); });
  document.addEventListener("visibilitychange", sendRead);

  // An out-of-band fragment equal to what the page shows already (the
  // sidebar a socket is sent as it opens, a presence list that did not
  // change) is not swapped in: replacing equal markup costs a phone a long
  // task of parsing, processing and layout, and would move the focus.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var d = e.detail, next = d.fragment && d.fragment.firstElementChild;
    if (next && !next.nextElementSibling && d.target.isEqualNode(next)) d.shouldSwap = false;
  });
  document.addEventListener("htmx:afterSettle", afterChange);
  document.addEventListener("htmx:wsAfterMessage", function () { afterChange(); refused(); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { hiddenNew = 0; updateUnread(); }
  });

  // A long press on a message (a touch screen's context menu) opens its
  // actions, as a tap on ⋯ does.
  document.addEventListener("contextmenu", function (e) {
    if (!window.matchMedia || !matchMedia("(pointer: coarse)").matches) return;
    var msg = e.target.closest && e.target.closest("#messages > article.message");
    var more = msg && msg.querySelector(".more");
    if (!more || (e.target.closest && e.target.closest("a[href]:not(.more)"))) return;
    e.preventDefault();
    more.click();
  });

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    decorate();
    rove();
    rememberClockSoon();
    seenID = lastID();
    restoreDraft();
    loadOutbox();
    updateCount();
    updateUnread();
    setupNotifySettings();
    var emojiButton = $("#emoji-button");
    if (emojiButton && !window.HTMLDialogElement) emojiButton.hidden = true;
    var s = scroller();
    if (s) s.addEventListener("scroll", function () { updateJump(); sendRead(); }, {passive: true});
    readUpTo = lastID(); // the page was marked read as it was made
  });
})();
