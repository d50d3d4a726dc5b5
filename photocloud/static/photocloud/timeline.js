// The timeline: join a day or month that a page boundary cut in two, and show in the date scrubber which month is
// on screen. The pages themselves arrive by htmx (infinite scroll, see library/_more.html).
(function () {
  "use strict";
  const timeline = document.getElementById("timeline");
  if (!timeline) return;

  function joinCutSections() {
    const months = new Set();
    timeline.querySelectorAll("h2.month").forEach((header) => {
      if (months.has(header.dataset.month)) header.remove();
      else months.add(header.dataset.month);
    });
    timeline.querySelectorAll("section.day").forEach((section) => {
      const before = section.previousElementSibling;
      if (before && before.matches("section.day") && before.dataset.day === section.dataset.day) {
        before.querySelector(".justified").append(...section.querySelector(".justified").children);
        section.remove();
      }
    });
  }

  // The scrubber (fetched after the page, see library/_scrubber.html) marks the month whose header last scrolled
  // past the top.
  const shown = new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (!entry.isIntersecting) return;
      const link = document.querySelector(`.scrub-months a[data-month="${entry.target.dataset.month}"]`);
      if (!link) return;
      document.querySelectorAll(".scrub-months a[aria-current]").forEach((other) => other.removeAttribute("aria-current"));
      link.setAttribute("aria-current", "true");
      const list = link.closest(".scrub-years");  // scrolled within itself, never the page
      list.scrollTop = link.offsetTop - list.clientHeight / 2;
    });
  }, { rootMargin: "0px 0px -80% 0px" });

  function watchMonths() {
    timeline.querySelectorAll("h2.month").forEach((header) => shown.observe(header));
  }

  document.body.addEventListener("htmx:afterSettle", () => { joinCutSections(); watchMonths(); });
  joinCutSections();
  watchMonths();
})();
