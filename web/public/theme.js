// Runs before the first paint (a plain script in <head>, allowed by the
// pages' Content-Security-Policy as same-origin): the saved theme, dark by
// default, so the page never flashes the other one. src/lib/theme.ts owns
// the key and switches it later.
(function () {
  var theme = null;
  try {
    theme = window.localStorage.getItem('streamshare.theme');
  } catch (e) {
    // Storage blocked: the default.
  }
  var dark = theme !== 'light';
  document.documentElement.classList.toggle('dark', dark);
  document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
})();
