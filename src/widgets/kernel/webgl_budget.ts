// WebGL charts within the browser's context limit.
//
// Chromium keeps at most 16 live WebGL contexts a page, and a Plotly scattergl chart holds two
// (its context and focus canvases); past the limit the oldest context is lost and its chart goes
// blank ("Too many active WebGL contexts"). So a page keeps at most MAX_LIVE WebGL charts drawn:
// when one more is drawn, the one drawn longest ago gives its contexts back (WEBGL_lose_context,
// then Plotly.purge) and shows its static picture, and is drawn again when it scrolls into view.
// The helper is defined once a page (window.cnnvizGl), by the first chart's script that runs.

/** WebGL charts drawn at once: 14 contexts, under Chromium's 16 (lecture 03 draws 7 WebGL charts). */
export const MAX_LIVE = 7;

/** Defines window.cnnvizGl once: `add(gd, park)` after a WebGL chart is drawn; `lose(gd)` before purging. */
export function webglBudgetScript(): string {
  return (
    `  if (!window.cnnvizGl) window.cnnvizGl = {\n` +
    `    max: ${MAX_LIVE}, live: [],\n` +
    `    lose: function (gd) {\n` +
    `      var fl = gd._fullLayout;\n` +
    `      if (fl && fl._glcanvas) fl._glcanvas.each(function (d) {\n` +
    `        var ctx = d.regl && d.regl._gl, ext = ctx && ctx.getExtension('WEBGL_lose_context');\n` +
    `        if (ext) ext.loseContext();\n` +
    `      });\n` +
    `    },\n` +
    `    add: function (gd, park) {\n` +
    `      var b = this;\n` +
    // charts whose output was cleared give their contexts back at once
    `      b.live = b.live.filter(function (e) {\n` +
    `        if (e.gd === gd) return false;\n` +
    `        if (!e.gd.isConnected) { b.lose(e.gd); return false; }\n` +
    `        return true;\n` +
    `      });\n` +
    `      b.live.push({ gd: gd, park: park });\n` +
    `      while (b.live.length > b.max) { var old = b.live.shift(); old.park(old.gd); }\n` +
    `    }\n` +
    `  };\n`
  );
}
