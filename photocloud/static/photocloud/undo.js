// The Undo toast after a delete: it goes away after a few seconds, but not while the pointer or focus is on it.
document.querySelectorAll(".toast[data-timeout]").forEach((toast) => {
  let timer;
  const hide = () => toast.remove();
  const start = () => { timer = setTimeout(hide, Number(toast.dataset.timeout) * 1000); };
  const stop = () => clearTimeout(timer);
  toast.addEventListener("mouseenter", stop);
  toast.addEventListener("focusin", stop);
  toast.addEventListener("mouseleave", start);
  toast.addEventListener("focusout", (event) => { if (!toast.contains(event.relatedTarget)) start(); });
  toast.querySelector("[data-dismiss]")?.addEventListener("click", hide);
  start();
});
