// Every page: menus that close with Escape or a click outside, the phone's menu button, and the dark-mode switch.
(function () {
  "use strict";
  const root = document.documentElement;
  const THEME_KEY = "photocloud-theme";

  // --- menus: <details class="menu"> and the phone's navigation (button[aria-controls]) --------------------------
  const toggle = document.querySelector(".nav-toggle");
  const nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));

  function setNav(open) {
    if (!toggle) return;
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  }

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (menu !== except && !menu.contains(except)) menu.open = false;
    });
  }

  if (toggle) {
    toggle.addEventListener("click", () => setNav(toggle.getAttribute("aria-expanded") !== "true"));
  }
  document.addEventListener("toggle", (event) => {
    if (event.target.matches && event.target.matches("details.menu") && event.target.open) closeMenus(event.target);
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = document.activeElement && document.activeElement.closest("details.menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    } else if (toggle && toggle.getAttribute("aria-expanded") === "true") {
      setNav(false);
      toggle.focus();
    } else {
      closeMenus(null);
    }
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("details.menu")) closeMenus(null);
    if (toggle && !event.target.closest(".nav-toggle") && !event.target.closest("#" + nav.id)) setNav(false);
  });

  // --- dark mode: the system's choice until the switch is used, then the switch's (remembered) ------------------
  const system = window.matchMedia("(prefers-color-scheme: dark)");
  const themeButton = document.querySelector(".theme-toggle");

  function isDark() {
    return root.dataset.theme ? root.dataset.theme === "dark" : system.matches;
  }
  function showTheme() {
    if (themeButton) themeButton.setAttribute("aria-pressed", String(isDark()));
  }
  if (themeButton) {
    themeButton.addEventListener("click", () => {
      const theme = isDark() ? "light" : "dark";
      root.dataset.theme = theme;
      try { localStorage.setItem(THEME_KEY, theme); } catch (e) { /* private mode: for this page only */ }
      showTheme();
    });
  }
  system.addEventListener("change", showTheme);
  showTheme();
})();
