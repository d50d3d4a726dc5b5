// Select many pictures on any grid (timeline, albums, search, date and theme albums, Trash) and act on them together
// through POST /api/photos/bulk/ (one request, a result per picture; large selections run as a job with progress).
// Tiles carry data-photo-id; click a tile's mark (or the tile once something is selected), Shift for a range,
// Space or Enter on a focused tile, Escape to clear, "Select all" per day.
(function () {
  "use strict";
  const bar = document.getElementById("bulk-bar");
  if (!bar) return;
  const count = document.getElementById("bulk-count");
  const message = document.getElementById("bulk-message");
  const progress = document.getElementById("bulk-progress");
  const albumChoice = document.getElementById("bulk-album");
  const downloadForm = document.getElementById("bulk-download");
  const csrf = downloadForm.querySelector("[name=csrfmiddlewaretoken]").value;
  const trashMode = !!document.querySelector(".trash-item[data-photo-id]");
  // On one of my albums, "Remove from album" means this album unless another is chosen.
  const pageAlbum = document.querySelector("[data-bulk-album]")?.dataset.bulkAlbum || "";
  const selected = new Set();
  let anchor = null;
  let albumsLoaded = false;

  const items = () => Array.from(document.querySelectorAll("[data-photo-id]"));
  const idOf = (node) => node.dataset.photoId;

  function paint() {
    items().forEach((node) => {
      const on = selected.has(idOf(node));
      node.classList.toggle("selected", on);
      const box = node.querySelector("input[type=checkbox]");
      if (box) box.checked = on;
      let note = node.querySelector(".select-state");
      if (!box && on && !note) {
        note = document.createElement("span");
        note.className = "select-state visually-hidden";
        note.textContent = " (selected)";
        node.append(note);
      } else if (!on && note) {
        note.remove();
      }
    });
    document.body.classList.toggle("selecting", selected.size > 0);
    bar.hidden = selected.size === 0;
    count.textContent = selected.size === 1 ? "1 selected" : `${selected.size} selected`;
    if (selected.size && !albumsLoaded) loadAlbums();
  }

  function toggle(node, range) {
    const id = idOf(node);
    if (range && anchor !== null) {
      const all = items().map(idOf);
      const [from, to] = [all.indexOf(anchor), all.indexOf(id)].sort((a, b) => a - b);
      if (from >= 0) all.slice(from, to + 1).forEach((one) => selected.add(one));
      else selected.add(id);
    } else if (selected.has(id)) {
      selected.delete(id);
    } else {
      selected.add(id);
    }
    anchor = id;
    paint();
  }

  function clear() {
    selected.clear();
    anchor = null;
    message.textContent = "";
    paint();
  }

  // Clicks: the mark always selects; the tile selects instead of opening once a selection has begun, or with Shift.
  document.addEventListener("click", (event) => {
    const node = event.target.closest("[data-photo-id]");
    if (!node) return;
    if (node.classList.contains("trash-item")) {
      // The Trash's own checkboxes (its forms post them): follow them, and fill a Shift range.
      const box = node.querySelector("input[type=checkbox]");
      if (event.target !== box) return; // a click on the label reaches the box too
      setTimeout(() => {
        if (event.shiftKey && anchor !== null) {
          toggle(node, true);
          return;
        }
        if (box.checked) selected.add(idOf(node));
        else selected.delete(idOf(node));
        anchor = idOf(node);
        paint();
      });
      return;
    }
    if (event.target.closest(".select-mark") || selected.size || event.shiftKey) {
      event.preventDefault();
      toggle(node, event.shiftKey);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && selected.size) {
      clear();
      return;
    }
    const node = event.target.closest && event.target.closest("a[data-photo-id]");
    if (!node) return;
    if (event.key === " " || (event.key === "Enter" && selected.size)) {
      event.preventDefault();
      toggle(node, event.shiftKey);
    }
  });

  // "Select all" for each day of the timeline (or each run of tiles under a heading).
  function addSectionButtons(root) {
    root.querySelectorAll("h2.day:not([data-select-ready])").forEach((heading) => {
      heading.dataset.selectReady = "1";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "select-section link";
      button.textContent = "Select all";
      button.setAttribute("aria-label", `Select all of ${heading.textContent}`);
      button.addEventListener("click", () => {
        let next = heading.nextElementSibling;
        while (next && !next.matches("h2.day")) {
          if (next.dataset.photoId) selected.add(next.dataset.photoId);
          next = next.nextElementSibling;
        }
        paint();
      });
      heading.append(" ", button);
    });
  }
  addSectionButtons(document);
  document.body.addEventListener("htmx:afterSwap", (event) => {
    addSectionButtons(event.target.parentElement || document);
    paint();
  });

  async function loadAlbums() {
    albumsLoaded = true;
    if (!albumChoice) return;
    let url = bar.dataset.albumsUrl;
    for (let pages = 0; url && pages < 20; pages++) {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      (body.results || []).forEach((album) => {
        const option = document.createElement("option");
        option.value = album.id;
        option.textContent = album.title;
        albumChoice.append(option);
      });
      url = body.next;
    }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    return { status: response.status, data };
  }

  async function follow(job) {
    progress.hidden = false;
    progress.max = job.total || 1;
    while (job.state === "queued" || job.state === "running") {
      progress.value = job.done;
      message.textContent = `Working… ${job.done} of ${job.total}`;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const response = await fetch(job.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      job = await response.json();
    }
    progress.value = job.done;
    return job;
  }

  function parameters(action) {
    const album = albumChoice ? albumChoice.value : "";
    if (action === "add_to_album" || action === "remove_from_album") {
      const target = album || (action === "remove_from_album" ? pageAlbum : "");
      if (!target) return "Choose an album first.";
      return { album: target };
    }
    if (action === "move_to_album") return { album: album || null };
    if (action === "new_album") {
      const title = window.prompt("Title of the new album");
      if (!title) return null;
      return { title, category: window.prompt("Its category", "general") || "general", access: "private" };
    }
    if (action === "set_category") {
      const category = window.prompt("Category for the selected pictures (empty: their album's)");
      return category === null ? null : { category };
    }
    if (action === "add_tags" || action === "remove_tags") {
      const tags = window.prompt("Tags, separated by commas");
      return tags ? { tags } : null;
    }
    if (action === "rotate") return { degrees: 90 };
    if (action === "set_date") {
      const text = window.prompt("Date and time taken, local time (YYYY-MM-DD HH:MM), with its UTC offset if known (e.g. +02:00)");
      return text === null ? null : parseTaken(text);
    }
    if (action === "set_location") {
      const text = window.prompt("Latitude, longitude in decimal degrees (e.g. 48.8584, 2.2945)");
      return text === null ? null : parsePlace(text);
    }
    if (action === "remove_location") {
      return window.confirm(`Remove the location of ${selected.size} picture(s)? Nobody else will get it.`) ? {} : null;
    }
    return {};
  }

  // "2024-05-01 18:30", "2024-05-01T18:30:15 +02:00" -> { taken_local, taken_offset }, or why not (a string).
  function parseTaken(text) {
    const found = text.trim().match(/^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:(?:UTC)?([+-])(\d{1,2}):?(\d{2})?)?$/i);
    if (!found) return "Write the date as YYYY-MM-DD HH:MM, optionally followed by +HH:MM.";
    const [, day, hours, minutes, seconds, sign, offsetHours, offsetMinutes] = found;
    const params = { taken_local: `${day}T${hours.padStart(2, "0")}:${minutes}:${seconds || "00"}`, taken_offset: null };
    if (sign) params.taken_offset = (sign === "-" ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes || 0));
    return params;
  }

  function parsePlace(text) {
    const parts = text.split(/[,;\s]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some((value) => !Number.isFinite(value))) {
      return "Write the place as two numbers: latitude, longitude.";
    }
    return { latitude: parts[0], longitude: parts[1] };
  }

  async function run(action) {
    const params = parameters(action);
    if (params === null) return;
    if (typeof params === "string") {
      message.textContent = params;
      return;
    }
    const ids = Array.from(selected);
    message.textContent = "Working…";
    bar.setAttribute("aria-busy", "true");
    let { status, data } = await post(bar.dataset.bulkUrl, { ids, action, ...params });
    if (status === 202) {
      data = await follow(data);
      status = data.state === "done" ? 200 : 500;
    }
    bar.removeAttribute("aria-busy");
    if (status !== 200) {
      const reason = data && (data.detail || Object.values(data).flat()[0]);
      message.textContent = reason || `Could not do that (the server answered ${status}).`;
      return;
    }
    const done = data.results.filter((row) => row.ok).map((row) => row.id);
    const left = data.results.length - done.length;
    if (action === "trash" && done.length) {
      sessionStorage.setItem("bulk-undo", JSON.stringify({ ids: done, text: `${done.length} ${done.length === 1 ? "picture" : "pictures"} moved to the Trash.` }));
    }
    if (data.album && action === "new_album") {
      window.location.href = `/albums/${data.album}/`;
      return;
    }
    sessionStorage.setItem("bulk-done", left ? `${done.length} done; ${left} not yours or not found.` : "");
    window.location.reload();
  }

  bar.querySelectorAll("[data-action]").forEach((button) => {
    const trashOnly = button.hasAttribute("data-trash-only");
    button.hidden = trashMode ? !trashOnly : trashOnly;
    button.addEventListener("click", () => run(button.dataset.action));
  });
  if (trashMode) bar.querySelectorAll(".bulk-group").forEach((group) => { group.hidden = true; });
  bar.querySelector("[data-bulk-clear]").addEventListener("click", clear);

  downloadForm.addEventListener("submit", () => {
    downloadForm.querySelectorAll("input[name=photos]").forEach((input) => input.remove());
    selected.forEach((id) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "photos";
      input.value = id;
      downloadForm.append(input);
    });
  });

  // After a reload: what the last action left, and Undo for a delete.
  const note = sessionStorage.getItem("bulk-done");
  sessionStorage.removeItem("bulk-done");
  const undo = JSON.parse(sessionStorage.getItem("bulk-undo") || "null");
  sessionStorage.removeItem("bulk-undo");
  const toast = document.getElementById("bulk-undo");
  if (undo && toast) {
    toast.querySelector("span").textContent = undo.text + (note ? " " + note : "");
    toast.hidden = false;
    const timer = setTimeout(() => { toast.hidden = true; }, 15000);
    toast.querySelector("button").addEventListener("click", async () => {
      clearTimeout(timer);
      await post(bar.dataset.bulkUrl, { ids: undo.ids, action: "restore" });
      window.location.reload();
    });
  } else if (note) {
    bar.hidden = false;
    message.textContent = note;
  }
})();
