// Web terminal: xterm.js (vendored under /vendor/xterm) bridged to the server through the Blazor circuit.
// Input goes out in order and in chunks below the hub's message size limit; output arrives as text batches.
window.dashboardTerminal = (function () {
  const terms = new Map();
  let next = 0;
  const chunk = 4096;

  function send(entry, method, ...args) {
    entry.queue = entry.queue.then(() => entry.dotnet.invokeMethodAsync(method, ...args)).catch(() => { });
  }

  return {
    open: function (host, dotnet) {
      const term = new Terminal({ cursorBlink: true, fontFamily: "monospace", fontSize: 14, scrollback: 5000, convertEol: false });
      const fit = new FitAddon.FitAddon();
      term.loadAddon(fit);
      term.open(host);
      try { fit.fit(); } catch (e) { /* host not laid out yet */ }
      const id = ++next;
      const entry = { term, fit, dotnet, queue: Promise.resolve(), observer: null };
      term.onData(function (data) {
        for (let i = 0; i < data.length; i += chunk) {
          send(entry, "OnInput", data.substring(i, i + chunk));
        }
      });
      term.onResize(function (size) { send(entry, "OnResize", size.cols, size.rows); });
      // Ctrl+Shift+C copies the selection; pasting uses the browser's own paste (Ctrl+Shift+V, context menu).
      term.attachCustomKeyEventHandler(function (e) {
        if (e.type === "keydown" && e.ctrlKey && e.shiftKey && e.code === "KeyC") {
          const text = term.getSelection();
          if (text && navigator.clipboard) { navigator.clipboard.writeText(text); }
          return false;
        }
        return true;
      });
      entry.observer = new ResizeObserver(function () { try { fit.fit(); } catch (e) { /* detached */ } });
      entry.observer.observe(host);
      terms.set(id, entry);
      term.focus();
      return { id: id, columns: term.cols, rows: term.rows };
    },
    write: function (id, text) {
      const entry = terms.get(id);
      if (entry) { entry.term.write(text); }
    },
    focus: function (id) {
      const entry = terms.get(id);
      if (entry) { entry.term.focus(); }
    },
    copySelection: async function (id) {
      const entry = terms.get(id);
      const text = entry ? entry.term.getSelection() : "";
      if (text && navigator.clipboard) { await navigator.clipboard.writeText(text); }
      return text.length;
    },
    close: function (id) {
      const entry = terms.get(id);
      if (!entry) { return; }
      entry.observer.disconnect();
      entry.term.dispose();
      terms.delete(id);
    }
  };
})();
