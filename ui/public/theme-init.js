// Apply the saved (or the system's) colour theme before the first paint, so a dark-mode user never sees a white flash.
(function () {
  try {
    var t = localStorage.getItem("sluice.theme");
    var dark = t ? t === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  } catch (e) {
    // Storage disabled: the app applies the system theme once it starts.
  }
})();
