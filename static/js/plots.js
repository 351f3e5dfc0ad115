// Plotly figures for every page: the loss surface, its cliff, runs drawn on it, and loss and ‖g‖ per step.
/* global Plotly */

// Okabe & Ito's colour-blind-safe palette; the surface uses Viridis, safe as well.
export const RUN_COLORS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
  "#000000", "#F0E442"];
export const COLORSCALE = "Viridis";

export const CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  toImageButtonOptions: { format: "png", scale: 2 },
};

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13 };

export const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const log10 = (x) => (x > 0 ? Math.log10(x) : x === 0 ? -16 : NaN);

/** The colour of the surface: L itself, or log₁₀ L, which shows the valley floor as well. */
function surfaceZ(surface, color) {
  if (color !== "log") return surface.loss;
  return surface.loss.map((row) => Float64Array.from(row, log10));
}

/** log₁₀ ‖∇L‖ over the grid: where it is large is the cliff. */
export function gradientNorm(surface) {
  return surface.grad_w.map((row, i) =>
    Float64Array.from(row, (gw, j) => log10(Math.hypot(gw, surface.grad_b[i][j]))));
}

/**
 * The surface as a heatmap; with `cliff`, its contour lines too: they crowd together where the
 * loss changes abruptly, which traces the wall even where it is thinner than a grid cell (the
 * grid's ‖g‖ can miss it; the hover text gives ‖g‖ at every grid point all the same).
 */
export function surfaceTraces(surface, { color = "linear", cliff = true, showscale = true } = {}) {
  const log = color === "log";
  const z = surfaceZ(surface, color);
  surface.gnorm ??= gradientNorm(surface);
  const traces = [{
    type: "heatmap",
    x: surface.w,
    y: surface.b,
    z,
    customdata: surface.gnorm,
    colorscale: COLORSCALE,
    // "fast" draws one pixel per grid point and lets the browser scale it: quick to redraw
    // on every frame of the animation, and smooth enough at n = 201.
    zsmooth: "fast",
    zmin: log ? -4 : undefined,
    showscale,
    colorbar: { title: { text: log ? "log₁₀ L" : "L" }, thickness: 12, len: 0.9 },
    hovertemplate: `w %{x:.3f}<br>b %{y:.3f}<br>${log ? "log₁₀ L" : "L"} %{z:.3g}`
      + "<br>log₁₀ ‖g‖ %{customdata:.2f}<extra></extra>",
    name: "loss",
  }];
  if (cliff) {
    traces.push({
      type: "contour",
      x: surface.w,
      y: surface.b,
      z,
      ncontours: 24,
      contours: { coloring: "none" },
      line: { color: "rgba(255,255,255,0.55)", width: 1 },
      showscale: false,
      hoverinfo: "skip",
      showlegend: false,
      name: "contour lines",
    });
  }
  return traces;
}

export function surfaceLayout(state, { title = "", legend = false } = {}) {
  return {
    title: title ? { text: title, font: { size: 15 }, x: 0.02, xanchor: "left" } : undefined,
    font: FONT,
    margin: { l: 52, r: 10, t: title ? 36 : 12, b: 44 },
    xaxis: { title: { text: "w", standoff: 4 }, range: [state.w_min, state.w_max], autorange: false,
      zeroline: false },
    yaxis: { title: { text: "b", standoff: 2 }, range: [state.b_min, state.b_max], autorange: false,
      zeroline: false },
    showlegend: legend,
    legend: { orientation: "h", y: -0.18, x: 0 },
    uirevision: "surface",
    dragmode: false,
    hovermode: "closest",
    annotations: [],
  };
}

const inBox = (state, w, b) => w !== null && b !== null && w >= state.w_min && w <= state.w_max
  && b >= state.b_min && b <= state.b_max;

const fmt = (x) => (x === null ? "∞/NaN" : Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(2));

/**
 * A run on the surface, its first `upto` points: a line with a white casing (visible on any
 * colour of the scale), clipped steps as diamonds, the start as a star.
 */
export function runTraces(run, { color, name, upto = Infinity, legend = false }) {
  const k = Math.min(upto, run.w.length);
  const w = run.w.slice(0, k);
  const b = run.b.slice(0, k);
  const steps = Array.from({ length: k }, (_, i) => i);
  const clipped = run.clipped.slice(0, k);
  return [
    { type: "scatter", mode: "lines", x: w, y: b, line: { color: "white", width: 5 },
      hoverinfo: "skip", showlegend: false },
    { type: "scatter", mode: "lines+markers", x: w, y: b, name, showlegend: legend,
      line: { color, width: 2.5 },
      marker: { color, size: clipped.map((c) => (c ? 9 : 5)),
        symbol: clipped.map((c) => (c ? "diamond" : "circle")),
        line: { color: "white", width: 1 } },
      customdata: steps,
      hovertemplate: `${name}<br>step %{customdata}<br>w %{x:.4g}, b %{y:.4g}<extra></extra>` },
    { type: "scatter", mode: "markers", x: [run.w[0]], y: [run.b[0]], showlegend: false,
      marker: { symbol: "star", size: 14, color: "white", line: { color: "black", width: 1 } },
      hovertemplate: "start: w %{x:.3f}, b %{y:.3f}<extra></extra>" },
  ];
}

/** An arrow at the edge when a run has been thrown off the axes (or out of the numbers). */
export function offAxesNote(run, state, upto, color) {
  const k = Math.min(upto, run.w.length) - 1;
  if (k < 1) return null;
  const w = run.w[k];
  const b = run.b[k];
  if (inBox(state, w, b)) return null;
  let last = k;
  while (last > 0 && !inBox(state, run.w[last], run.b[last])) last -= 1;
  const x = Math.min(Math.max(w ?? run.w[last], state.w_min), state.w_max);
  const y = Math.min(Math.max(b ?? run.b[last], state.b_min), state.b_max);
  const text = w === null || b === null
    ? "the numbers overflowed"
    : `thrown off the axes<br>to w = ${fmt(w)}, b = ${fmt(b)}`;
  const right = x > (state.w_min + state.w_max) / 2;
  const top = y > (state.b_min + state.b_max) / 2;
  return { x, y, text, showarrow: true, arrowcolor: color, arrowwidth: 2, arrowhead: 2,
    ax: right ? -110 : 110, ay: top ? 45 : -45, bgcolor: "rgba(255,255,255,0.92)",
    bordercolor: color, borderwidth: 1.5, borderpad: 3, font: { size: 12, color: "#111" } };
}

/** Loss and ‖g‖ against step, on log axes, for several runs. */
export function curveTraces(runs, upto = Infinity) {
  const traces = [];
  runs.forEach(({ run, name, color }) => {
    const k = Math.min(upto, run.w.length);
    const steps = Array.from({ length: k }, (_, i) => i);
    const positive = (x) => (x === null || !(x > 0) ? null : x);
    traces.push({ type: "scatter", mode: "lines", x: steps, y: run.loss.slice(0, k).map(positive),
      name, legendgroup: name, line: { color, width: 2 }, xaxis: "x", yaxis: "y",
      hovertemplate: `${name}<br>step %{x}: L %{y:.3g}<extra></extra>` });
    traces.push({ type: "scatter", mode: "lines", x: steps,
      y: steps.map((i) => positive(run.grad_w[i] === null || run.grad_b[i] === null ? null
        : Math.hypot(run.grad_w[i], run.grad_b[i]))),
      name, legendgroup: name, showlegend: false, line: { color, width: 2, dash: "dot" },
      xaxis: "x2", yaxis: "y2", hovertemplate: `${name}<br>step %{x}: ‖g‖ %{y:.3g}<extra></extra>` });
  });
  return traces;
}

/** Loss and ‖g‖ side by side, or one above the other when `narrow`. */
export function curveLayout(steps, narrow = false) {
  const [first, second] = narrow ? [[0.6, 1], [0, 0.4]] : [[0, 0.45], [0.55, 1]];
  const x = (domain, anchor) => ({ title: { text: "step", standoff: 4 }, range: [0, Math.max(steps, 1)],
    zeroline: false, anchor, ...(narrow ? {} : { domain }) });
  const y = (title, domain, anchor) => ({ type: "log", title: { text: title, standoff: 2 },
    exponentformat: "power", anchor, ...(narrow ? { domain } : {}) });
  return {
    font: FONT,
    margin: { l: 56, r: 12, t: 28, b: 44 },
    xaxis: x(first, "y"),
    xaxis2: x(second, "y2"),
    yaxis: y("loss L", first, "x"),
    yaxis2: y("‖g‖", second, "x2"),
    legend: { orientation: "h", y: narrow ? 1.08 : 1.12, x: 0 },
    uirevision: "curves",
  };
}

/** Is WebGL there? (the 3-D view needs it; without it the page says so instead of failing) */
export function hasWebGL() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

export function draw(el, traces, layout) {
  return Plotly.react(el, traces, layout, CONFIG);
}
