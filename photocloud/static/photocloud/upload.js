// Album uploader: pick or drop files, preview them, remove or choose a cover, then upload one file per request
// so each gets its own progress bar and its own result (stored, duplicate, rejected with the reason).
(function () {
  "use strict";
  const root = document.getElementById("uploader");
  if (!root) return;
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const panel = document.getElementById("queue-panel");
  const list = document.getElementById("queue");
  const startButton = document.getElementById("upload-start");
  const clearButton = document.getElementById("upload-clear");
  const summary = document.getElementById("upload-summary");
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1] || "";
  const maxBytes = Number(root.dataset.maxBytes) * 1024 * 1024;
  let queue = []; // {file, item, state, coverInput, result}
  let uploading = false;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addFiles(files) {
    for (const file of files) {
      const entry = { file, state: "waiting" };
      const item = el("li");
      const preview = el("img", { alt: "" });
      const noPreview = () => preview.replaceWith(el("span", { class: "no-preview" }, "No preview"));
      if (file.type.startsWith("image/")) {
        preview.src = URL.createObjectURL(file);
        preview.onload = () => URL.revokeObjectURL(preview.src);
        preview.onerror = noPreview; // e.g. HEIC, which browsers cannot show, or a damaged file
      }
      const name = el("span", { class: "name", title: file.name }, file.name);
      const row = el("div", { class: "row" });
      const coverLabel = el("label");
      entry.coverInput = el("input", { type: "radio", name: "cover", "aria-label": "Use " + file.name + " as cover" });
      coverLabel.append(entry.coverInput, " cover");
      const remove = el("button", { type: "button", class: "small", "aria-label": "Remove " + file.name }, "Remove");
      remove.addEventListener("click", () => {
        queue = queue.filter((e) => e !== entry);
        item.remove();
        refresh();
      });
      row.append(coverLabel, remove);
      entry.progress = el("progress", { max: "100", value: "0" });
      entry.resultNode = el("span", { class: "result" }, "Ready to upload");
      entry.remove = remove;
      item.append(preview, name, row, entry.progress, entry.resultNode);
      entry.item = item;
      list.append(item);
      queue.push(entry);
      if (!file.type.startsWith("image/")) noPreview();
      if (file.size > maxBytes) show(entry, "rejected", `Rejected: larger than ${root.dataset.maxBytes} MB`);
    }
    refresh();
  }

  function refresh() {
    panel.hidden = queue.length === 0;
    const waiting = queue.filter((e) => e.state === "waiting").length;
    startButton.disabled = uploading || waiting === 0;
    startButton.textContent = waiting ? `Upload ${waiting} picture${waiting === 1 ? "" : "s"}` : "Upload";
  }

  function show(entry, status, text) {
    entry.state = status;
    entry.resultNode.className = "result " + status;
    entry.resultNode.textContent = text;
  }

  function send(entry) {
    return new Promise((resolve) => {
      const data = new FormData();
      // On the timeline the owner chooses the album, or none: the picture then lives in the library alone.
      const chooser = document.getElementById("upload-album");
      const album = chooser ? chooser.value : root.dataset.album;
      if (album) data.append("album", album);
      else data.append("library", "true");
      data.append("file", entry.file, entry.file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", root.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) entry.progress.value = Math.round((event.loaded / event.total) * 100);
      };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        const result = body && body.results && body.results[0];
        entry.progress.value = 100;
        if (result) {
          entry.result = result;
          // A duplicate says which: already in the library, or brought back from the Trash (the server's reason).
          const again = (result.reason || "Already in your library").replace(/\.$/, "");
          const label = { stored: "Stored — processing…", duplicate: again }[result.status];
          show(entry, result.status, label || "Rejected: " + result.reason);
          if (result.photo) watch(entry, result.photo.id);
        } else {
          show(entry, "rejected", "Rejected: " + ((body && body.detail) || `server answered ${xhr.status}`));
        }
        resolve();
      };
      xhr.onerror = () => { show(entry, "rejected", "Network error — try again"); entry.state = "waiting"; resolve(); };
      show(entry, "uploading", "Uploading…");
      xhr.send(data);
    });
  }

  // Poll a stored picture until it is processed, then show its thumbnail.
  function watch(entry, photoId) {
    const url = `/api/photos/${photoId}/`;
    let tries = 0;
    const tick = () => {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((photo) => {
          if (photo.status === "ready") {
            if (!entry.shown) {
              entry.item.querySelector("img, .no-preview").replaceWith(el("img", { alt: "", src: photo.thumbnails.s }));
              entry.shown = true;
            }
            // The automatic category follows shortly after the thumbnails, when the vision models have looked.
            const seen = photo.analysis;
            const waiting = root.dataset.vision === "on" && !seen;
            // Said as the picture's page says it: a category it is sure of, a guess ("maybe"), or none of them (the
            // "none of these" class: an empty category, once shown as " · (24%)").
            const percent = seen ? ` (${Math.round(seen.confidence * 100)}%)` : "";
            const label = seen && seen.category ? (seen.confident ? "" : "maybe ") + seen.category_label.toLowerCase() : "";
            const category = !seen ? "" : label ? ` · ${label}${percent}` : " · none of the usual categories";
            if (entry.state === "stored") show(entry, "stored", "Stored · ready" + (waiting ? " · analysing…" : category));
            if (waiting && ++tries < 60) setTimeout(tick, 2000);
          } else if (photo.status === "failed") {
            show(entry, "rejected", "Processing failed: " + photo.status_detail);
          } else if (++tries < 150) {
            setTimeout(tick, 1000);
          }
        })
        .catch(() => { if (++tries < 150) setTimeout(tick, 2000); });
    };
    tick();
  }

  async function uploadAll() {
    uploading = true;
    refresh();
    queue.forEach((e) => { e.remove.disabled = true; });
    const pending = queue.filter((e) => e.state === "waiting");
    // Two at a time: keeps the connection busy without starving the server on large batches.
    const workers = [0, 1].map(async () => {
      while (pending.length) await send(pending.shift());
    });
    await Promise.all(workers);
    const cover = queue.find((e) => e.coverInput.checked && e.result && e.result.photo);
    if (cover && root.dataset.coverUrl) {
      await fetch(root.dataset.coverUrl, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
        body: JSON.stringify({ cover: cover.result.photo.id }),
      });
    }
    const count = (s) => queue.filter((e) => e.state === s).length;
    // Brought back from the Trash is said apart from "already there", as the sync client's summary does.
    const restored = queue.filter((e) => e.state === "duplicate" && e.result.code === "restored").length;
    summary.textContent = `${count("stored")} stored, ${count("duplicate") - restored} already there, `
      + (restored ? `${restored} restored from the Trash, ` : "") + `${count("rejected")} rejected.`;
    uploading = false;
    refresh();
    if (count("stored") && window.htmx) {
      // Show the new pictures in the album grid below; their tiles refresh themselves while processing.
      htmx.ajax("GET", window.location.pathname, { target: "#photo-grid", select: "#photo-grid", swap: "outerHTML" });
    }
  }

  input.addEventListener("change", () => { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach((type) => dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => dropzone.addEventListener(type, () => dropzone.classList.remove("over")));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });
  dropzone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  startButton.addEventListener("click", uploadAll);
  clearButton.addEventListener("click", () => {
    if (uploading) return;
    queue = [];
    list.replaceChildren();
    summary.textContent = "";
    refresh();
  });
})();
