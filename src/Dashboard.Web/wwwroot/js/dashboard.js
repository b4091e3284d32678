// Keeps a log view pinned to the newest line while the user is at the bottom; scrolling up stops following
// and tells the component (LogLines.SetFollowing), which then renders the whole buffer virtualized.
window.dashboard = {
  followLog: function (el, component) {
    if (!el || el.dataset.follow) {
      return;
    }
    el.dataset.follow = "1";
    let stick = true;
    el.addEventListener("scroll", function () {
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 40;
      if (atEnd !== stick) {
        stick = atEnd;
        if (component) {
          component.invokeMethodAsync("SetFollowing", atEnd, el.scrollTop).catch(function () { });
        }
      }
    }, { passive: true });
    new MutationObserver(function () {
      if (stick) {
        el.scrollTop = el.scrollHeight;
      }
    }).observe(el, { childList: true, subtree: true, attributes: true, attributeFilter: ["style"] });
  },
  scrollLogTo: function (el, top) {
    if (el) {
      el.scrollTop = top;
    }
  }
};
