// Keeps a log view pinned to the newest line while the user is at the bottom; scrolling up stops following.
window.dashboard = {
  followLog: function (el) {
    if (!el || el.dataset.follow) {
      return;
    }
    el.dataset.follow = "1";
    let stick = true;
    el.addEventListener("scroll", function () {
      stick = el.scrollTop + el.clientHeight >= el.scrollHeight - 40;
    }, { passive: true });
    new MutationObserver(function () {
      if (stick) {
        el.scrollTop = el.scrollHeight;
      }
    }).observe(el, { childList: true, subtree: true, attributes: true, attributeFilter: ["style"] });
  }
};
