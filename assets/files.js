// Files in the composer. Without this script the attach form posts as a
// plain multipart form and the page reloads; with it the same form is sent
// in the background with a progress bar, and files can also be dropped on
// the room or pasted into the message box. The new message itself arrives
// over the room's socket like any other.
(function () {
  "use strict";
  var queue = [], busy = false;

  function el(id) { return document.getElementById(id); }

  function showError(text) {
    var err = el("composer-error");
    if (err) err.textContent = text;
  }

  function next() {
    if (busy || queue.length === 0) return;
    var job = queue.shift(), form = el("attach-form"), status = el("upload-status");
    if (!form || !status) return;
    var max = Number(form.dataset.max) || 0;
    if (max && job.file.size > max) {
      showError(job.file.name + " is larger than the " + Math.round(max / 1048576) + " MB an upload may be.");
      next();
      return;
    }
    busy = true;
    var bar = status.querySelector("progress"), label = status.querySelector(".upload-name");
    bar.value = 0;
    label.textContent = "Sending " + job.file.name + "…";
    status.hidden = false;
    var data = new FormData();
    data.append("file", job.file, job.file.name);
    if (job.caption) data.append("body", job.caption);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round(e.loaded / e.total * 100);
    });
    function finish(errText) {
      busy = false;
      status.hidden = true;
      if (errText) showError(errText);
      next();
    }
    xhr.addEventListener("load", function () {
      if (xhr.status === 204) {
        showError("");
        form.reset();
        var details = el("attach");
        if (details) details.open = false;
        finish("");
        return;
      }
      // Refusals come as a short text; anything else (a page) is summed up.
      var plain = (xhr.getResponseHeader("Content-Type") || "").indexOf("text/plain") === 0;
      finish(plain && xhr.responseText ? xhr.responseText : "The file was not sent (error " + xhr.status + ").");
    });
    xhr.addEventListener("error", function () { finish("The file was not sent: the connection was lost."); });
    xhr.send(data);
  }

  function send(files, caption) {
    for (var i = 0; i < files.length; i++) queue.push({file: files[i], caption: i === 0 ? caption : ""});
    next();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form.id !== "attach-form") return;
    var input = el("attach-file");
    if (!input || !input.files || input.files.length === 0) return;
    e.preventDefault();
    send(input.files, el("attach-caption") ? el("attach-caption").value.trim() : "");
  });

  // Dropping files anywhere on the room sends them.
  function dragsFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0;
  }
  document.addEventListener("dragover", function (e) {
    var room = e.target.closest && e.target.closest(".room");
    if (!room || !dragsFiles(e) || !el("attach-form")) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    room.classList.add("dropping");
  });
  document.addEventListener("dragleave", function (e) {
    if (e.target.classList && e.target.classList.contains("room")) e.target.classList.remove("dropping");
  });
  document.addEventListener("drop", function (e) {
    var room = e.target.closest && e.target.closest(".room");
    if (!room || !dragsFiles(e) || !el("attach-form")) return;
    e.preventDefault();
    room.classList.remove("dropping");
    send(e.dataTransfer.files, "");
  });

  // Pasting an image (a screenshot) into the message box sends it.
  document.addEventListener("paste", function (e) {
    if (!e.target || e.target.id !== "body" || !e.clipboardData || !el("attach-form")) return;
    var files = [];
    for (var i = 0; i < e.clipboardData.items.length; i++) {
      var item = e.clipboardData.items[i];
      if (item.kind === "file" && item.type.indexOf("image/") === 0) {
        var f = item.getAsFile();
        if (f) files.push(f.name ? f : new File([f], "pasted-image." + item.type.slice(6), {type: f.type}));
      }
    }
    if (files.length === 0) return;
    e.preventDefault();
    send(files, "");
  });
})();
