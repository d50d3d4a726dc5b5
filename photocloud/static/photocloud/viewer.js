// The picture viewer: full screen, zoom and pan (wheel, double-click, pinch, keys), previous/next by arrow keys, swipe
// or the links, Escape to leave, a slideshow and the info panel. Moving to another picture fetches its page and swaps
// the content of #photo-page in place (history kept), so full screen and a running slideshow carry on.
(function () {
  "use strict";
  const page = document.getElementById("photo-page");
  if (!page) return;

  const MAX_ZOOM = 8;
  const STEP = 1.5; // one key press or button click
  const SLIDE_MS = 4000;
  const SWIPE_PX = 60;
  let zoom = 1, x = 0, y = 0; // scale and translation of the picture inside its stage
  let slideshow = null; // interval id while the slideshow runs
  let infoShown = true; // the info panel beside (or below) the picture; hidden in full screen until asked for

  const $ = (selector) => page.querySelector(selector);

  // --- zoom and pan -------------------------------------------------------------------------------------------------
  function apply() {
    const picture = $("#picture"), stage = $("#stage");
    if (!picture) return;
    if (zoom <= 1) { zoom = 1; x = 0; y = 0; }
    picture.style.transform = zoom === 1 ? "" : `translate(${x}px, ${y}px) scale(${zoom})`;
    stage.dataset.zoom = zoom.toFixed(2);
    stage.classList.toggle("zoomed", zoom > 1);
    const level = $(".zoom-level");
    if (level) level.textContent = `${Math.round(zoom * 100)}%`;
  }

  // Zoom by `factor` keeping the point under (clientX, clientY) where it is.
  function zoomAt(factor, clientX, clientY) {
    const picture = $("#picture");
    if (!picture) return;
    const box = $("#stage").getBoundingClientRect();
    const px = clientX - box.left - picture.offsetLeft, py = clientY - box.top - picture.offsetTop;
    const next = Math.min(MAX_ZOOM, Math.max(1, zoom * factor));
    x = px - (px - x) * (next / zoom);
    y = py - (py - y) * (next / zoom);
    zoom = next;
    apply();
  }

  function zoomCentre(factor) {
    const box = $("#stage").getBoundingClientRect();
    zoomAt(factor, box.left + box.width / 2, box.top + box.height / 2);
  }

  function resetZoom() { zoom = 1; apply(); }

  // --- moving between pictures --------------------------------------------------------------------------------------
  async function go(link, push = true) {
    if (!link) return false;
    const url = link.href || link;
    try {
      const response = await fetch(url, { headers: { "X-Viewer": "1" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      const next = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("photo-page");
      if (!next) throw new Error("no viewer in the page");
      page.innerHTML = next.innerHTML;
      page.dataset.title = next.dataset.title;
      document.title = next.dataset.title;
      if (push) history.pushState({ viewer: true }, "", url);
      if (window.htmx) window.htmx.process(page);
      setUp();
      return true;
    } catch (error) {
      window.location.href = url; // the ordinary way, if the quick one fails
      return false;
    }
  }
  const previous = () => go($('a[rel="prev"]'));
  const next = () => go($('a[rel="next"]'));

  window.addEventListener("popstate", () => go(window.location.href, false));

  // --- full screen, slideshow, info ---------------------------------------------------------------------------------
  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (page.requestFullscreen) page.requestFullscreen().catch(() => {});
  }

  function stopSlideshow() {
    clearInterval(slideshow);
    slideshow = null;
    showState();
  }

  function toggleSlideshow() {
    if (slideshow) { stopSlideshow(); return; }
    if (!document.fullscreenElement && page.requestFullscreen) page.requestFullscreen().catch(() => {});
    slideshow = setInterval(async () => {
      if (!$('a[rel="next"]') || !(await next())) stopSlideshow();
    }, SLIDE_MS);
    showState();
  }

  function toggleInfo() {
    infoShown = !infoShown;
    showState();
  }

  function showState() {
    page.classList.toggle("info-hidden", !infoShown);
    const press = (action, on) => {
      const button = $(`[data-action="${action}"]`);
      if (button) button.setAttribute(action === "info" ? "aria-expanded" : "aria-pressed", String(on));
    };
    press("fullscreen", Boolean(document.fullscreenElement));
    press("slideshow", Boolean(slideshow));
    press("info", infoShown);
    const show = $('[data-action="slideshow"]');
    if (show) show.textContent = slideshow ? "Stop slideshow" : "Slideshow";
  }
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && slideshow) stopSlideshow();
    infoShown = !document.fullscreenElement; // full screen is for the picture; Info brings the panel back
    resetZoom();
    showState();
  });

  // --- keys ---------------------------------------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable], details.menu")) return;
    const actions = {
      ArrowLeft: previous,
      ArrowRight: next,
      f: toggleFullscreen,
      i: toggleInfo,
      "+": () => zoomCentre(STEP),
      "=": () => zoomCentre(STEP),
      "-": () => zoomCentre(1 / STEP),
      0: resetZoom,
      Escape: leave,
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // Escape steps back one level: out of full screen, then the slideshow, then the zoom, then back to the album.
  function leave() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (slideshow) stopSlideshow();
    else if (zoom > 1) resetZoom();
    else {
      const close = document.querySelector("[data-viewer-close]");
      if (close) window.location.href = close.href;
    }
  }

  // --- pointer: wheel, double-click, drag to pan, pinch, swipe ------------------------------------------------------
  const pointers = new Map();
  let pinch = 0, swipeFrom = null;

  function setUp() {
    zoom = 1; x = 0; y = 0;
    const tools = $(".viewer-tools");
    if (tools) tools.hidden = false; // the buttons work only with this script
    const stage = $("#stage");
    if (stage) {
      stage.addEventListener("wheel", (event) => {
        event.preventDefault();
        zoomAt(Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
      }, { passive: false });
      stage.addEventListener("dblclick", (event) => {
        if (zoom > 1) resetZoom(); else zoomAt(2.5, event.clientX, event.clientY);
      });
      stage.addEventListener("pointerdown", pointerDown);
      stage.addEventListener("pointermove", pointerMove);
      ["pointerup", "pointercancel", "pointerleave"].forEach((type) => stage.addEventListener(type, pointerUp));
    }
    page.querySelectorAll("[data-action]").forEach((button) => {
      const act = { "zoom-in": () => zoomCentre(STEP), "zoom-out": () => zoomCentre(1 / STEP),
        fullscreen: toggleFullscreen, slideshow: toggleSlideshow, info: toggleInfo }[button.dataset.action];
      button.addEventListener("click", act);
    });
    page.querySelectorAll('.prevnext a').forEach((link) => link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      go(link);
    }));
    apply();
    showState();
  }

  function distance() {
    const [a, b] = [...pointers.values()];
    return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
  }

  function pointerDown(event) {
    pointers.set(event.pointerId, event);
    try { event.currentTarget.setPointerCapture(event.pointerId); } catch (e) { /* the pointer is already gone */ }
    if (pointers.size === 2) pinch = distance();
    swipeFrom = pointers.size === 1 && zoom === 1 ? { x: event.clientX, y: event.clientY } : null;
  }

  function pointerMove(event) {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    pointers.set(event.pointerId, event);
    if (pointers.size === 2) {
      const now = distance();
      const [a, b] = [...pointers.values()];
      if (pinch) zoomAt(now / pinch, (a.clientX + b.clientX) / 2, (a.clientY + b.clientY) / 2);
      pinch = now;
    } else if (zoom > 1) {
      x += event.clientX - last.clientX;
      y += event.clientY - last.clientY;
      apply();
    }
  }

  function pointerUp(event) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = 0;
    if (swipeFrom && event.type === "pointerup") {
      const dx = event.clientX - swipeFrom.x, dy = event.clientY - swipeFrom.y;
      if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) (dx > 0 ? previous : next)();
    }
    swipeFrom = null;
  }

  setUp();
})();
