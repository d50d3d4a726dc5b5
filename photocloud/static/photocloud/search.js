// Search page: the facets ("Refine") start closed, so on a phone the results come first; on a wide screen they sit
// open beside the results. Open already when a filter is active (the template says so), and left alone then.
(function () {
  "use strict";
  const refine = document.querySelector(".refine[data-open-when-wide]");
  if (!refine) return;
  const narrow = window.matchMedia("(max-width: 700px)"); // the single-column layout of search.css
  const follow = () => { refine.open = !narrow.matches; };
  follow();
  narrow.addEventListener("change", follow);
})();
