// "/explore": one surface as a contour map and in 3-D, up to eight runs from one start, every option.

import { fetchSurface, latestOnly, MODEL_KEYS, pick, postTrajectories, RUN_KEYS } from "./api.js";
import { statusLine } from "./status.js";
import {
  CONFIG, COLORSCALE, draw, hasWebGL, offAxesNote, RUN_COLORS, runTraces,
  surfaceLayout, surfaceTraces,
} from "./plots.js";
import {
  bindForm, defaults, describeInput, fillForm, readControl, readState, RUN_SETTINGS, SETTINGS,
  setURL, writeParams,
} from "./state.js";

/* global Plotly */

const PAGE_KEYS = [...MODEL_KEYS, "w_min", "w_max", "b_min", "b_max", "n", "color", "cliff", "w0", "b0"];
const TABLE = {
  ...Object.fromEntries(PAGE_KEYS.map((k) => [k, SETTINGS[k]])),
  runs: { kind: "int", default: 4, min: 1, max: 8 },
};
// The runs a first visit shows: the same start, four ways of meeting the cliff.
const RUN_DEFAULTS = [
  { clip: "none" },
  { clip: "norm" },
  { clip: "value" },
  { clip: "hidden" },
  { optimizer: "momentum", lr: 0.1, clip: "norm" },
  { optimizer: "adam", lr: 0.1 },
  { optimizer: "nesterov", lr: 0.1, clip: "norm" },
  { optimizer: "gauss_newton", lr: 1 },
].map((d) => ({ ...defaults(RUN_SETTINGS), ...d }));

const OPTIMIZER_NAMES = { gd: "GD", momentum: "momentum", nesterov: "Nesterov", adam: "Adam",
  gauss_newton: "Gauss–Newton" };
const CLIP_NAMES = { none: "no clipping", norm: "norm clip", value: "element-wise clip",
  hidden: "δₜ clip", random: "random step" };

const form = document.getElementById("controls");
const runsBody = document.getElementById("runs");
const resultsBody = document.getElementById("results");
const contour = document.getElementById("contour");
const view3d = document.getElementById("surface3d");
const { setBusy, showRefusal } = statusLine(document.getElementById("progress"),
  document.getElementById("message"));
const webgl = hasWebGL();

function readRuns(params, count) {
  return Array.from({ length: count }, (_, i) =>
    readState(RUN_SETTINGS, params, `r${i + 1}.`, RUN_DEFAULTS[i]));
}

const params = new URLSearchParams(location.search);
const state = readState(TABLE, params);
let runs = readRuns(params, state.runs);
let surface = null;
let results = [];
const surfaceSignal = latestOnly();
const runsSignal = latestOnly();

const labelOf = (run, i) => {
  let text = `${i + 1}: ${OPTIMIZER_NAMES[run.optimizer]} ε=${run.lr}, ${CLIP_NAMES[run.clip]}`;
  if (run.clip !== "none") text += ` v=${run.threshold}`;
  if (run.on_nonfinite === "random_step") text += ", random step on overflow";
  return text;
};

// ---------------------------------------------------------------- URL
function saveURL(push = true) {
  state.runs = runs.length;
  const q = writeParams(TABLE, state, new URLSearchParams());
  runs.forEach((run, i) => writeParams(RUN_SETTINGS, run, q, `r${i + 1}.`, RUN_DEFAULTS[i]));
  setURL(q, { push });
}

// ---------------------------------------------------------------- the runs editor
const CELLS = ["optimizer", "lr", "steps", "clip", "threshold", "momentum", "damping", "on_nonfinite", "seed"];
const CELL_LABELS = { optimizer: "optimizer", lr: "learning rate", steps: "steps", clip: "clipping",
  threshold: "threshold", momentum: "momentum", damping: "damping", on_nonfinite: "on overflow",
  seed: "seed" };

function control(run, i, key) {
  const spec = RUN_SETTINGS[key];
  let input;
  if (spec.kind === "choice") {
    input = document.createElement("select");
    for (const option of spec.options) {
      const o = document.createElement("option");
      o.value = option;
      o.textContent = key === "optimizer" ? OPTIMIZER_NAMES[option]
        : key === "clip" ? CLIP_NAMES[option] : option.replace("_", " ");
      input.append(o);
    }
  } else {
    input = document.createElement("input");
    input.type = "number";
    describeInput(input, spec);
  }
  input.name = `r${i + 1}.${key}`;
  input.value = String(run[key]);
  input.setAttribute("aria-label", `run ${i + 1} ${CELL_LABELS[key]}`);
  input.addEventListener("change", () => {
    const value = readControl(input, spec);
    if (value === undefined || value === run[key]) return;
    run[key] = value;
    saveURL();
    computeRuns();
  });
  return input;
}

function buildRunsTable() {
  runsBody.replaceChildren(...runs.map((run, i) => {
    const tr = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.innerHTML = `<span class="swatch" style="background:${RUN_COLORS[i]}"></span>${i + 1}`;
    tr.append(name);
    for (const key of CELLS) {
      const td = document.createElement("td");
      td.append(control(run, i, key));
      tr.append(td);
    }
    const td = document.createElement("td");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `remove run ${i + 1}`);
    remove.disabled = runs.length === 1;
    remove.addEventListener("click", () => {
      runs.splice(i, 1);
      buildRunsTable();
      saveURL();
      computeRuns();
    });
    td.append(remove);
    tr.append(td);
    return tr;
  }));
  document.getElementById("add-run").disabled = runs.length >= RUN_DEFAULTS.length;
}

document.getElementById("add-run").addEventListener("click", () => {
  if (runs.length >= RUN_DEFAULTS.length) return;
  runs.push({ ...RUN_DEFAULTS[runs.length] });
  buildRunsTable();
  saveURL();
  computeRuns();
});

// ---------------------------------------------------------------- computing
async function loadSurface() {
  setBusy(+1, "Computing the surface…");
  try {
    surface = await fetchSurface(state, { signal: surfaceSignal() });
    showRefusal("");
  } catch (err) {
    if (err.name === "AbortError") return;
    surface = null;
    Plotly.purge(contour);
    Plotly.purge(view3d);
    showRefusal(err.message);
  } finally {
    setBusy(-1);
  }
  render();
}

async function computeRuns() {
  const signal = runsSignal();
  setBusy(+1, "Computing the runs…");
  try {
    const answer = await postTrajectories(pick(state, MODEL_KEYS), { w: state.w0, b: state.b0 },
      runs.map((run, i) => ({ label: labelOf(run, i), ...pick(run, RUN_KEYS) })),
      { signal });
    results = answer.runs;
    if (surface) showRefusal("");
  } catch (err) {
    if (err.name === "AbortError") return;
    results = [];
    showRefusal(err.message);
  } finally {
    setBusy(-1);
  }
  render();
}

// ---------------------------------------------------------------- drawing
const sci = (x) => (x === null || x === undefined ? "non-finite"
  : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toPrecision(4));

function renderResults() {
  resultsBody.replaceChildren(...results.map((result, i) => {
    const p = result.points;
    const k = p.w.length - 1;
    const tr = document.createElement("tr");
    const cells = [
      `<span class="swatch" style="background:${RUN_COLORS[i]}"></span>${result.label}`,
      sci(p.loss[k]), String(k), String(p.clipped.filter(Boolean).length),
      result.stopped === "nonfinite" ? "overflow (non-finite)" : result.stopped,
      `(${sci(p.w[k])}, ${sci(p.b[k])})`,
    ];
    cells.forEach((html, j) => {
      const td = document.createElement(j === 0 ? "th" : "td");
      if (j === 0) td.scope = "row";
      if (j === 1 || j === 2 || j === 3 || j === 5) td.className = "num";
      td.innerHTML = html;
      tr.append(td);
    });
    return tr;
  }));
}

function render3d() {
  if (!webgl) {
    view3d.innerHTML = '<p class="webgl-missing">The 3-D view needs WebGL, which this browser '
      + "does not offer. The contour map shows the same surface.</p>";
    return;
  }
  const log = state.color === "log";
  const zOf = (x) => (x === null ? null : log ? (x > 0 ? Math.log10(x) : -16) : x);
  const z = log ? surface.loss.map((row) => Array.from(row, zOf)) : surface.loss;
  const inside = (w, b) => w !== null && b !== null && w >= state.w_min && w <= state.w_max
    && b >= state.b_min && b <= state.b_max;
  const traces = [{
    type: "surface", x: surface.w, y: surface.b, z, colorscale: COLORSCALE, showscale: false,
    cmin: log ? -4 : undefined, opacity: 0.95, name: "loss", hoverinfo: "skip",
    contours: { z: { show: false } },
  }];
  results.forEach((result, i) => {
    const p = result.points;
    traces.push({
      type: "scatter3d", mode: "lines+markers", name: result.label, showlegend: false,
      x: p.w.map((w, k) => (inside(w, p.b[k]) ? w : null)),
      y: p.b.map((b, k) => (inside(p.w[k], b) ? b : null)),
      z: p.loss.map(zOf),
      line: { color: RUN_COLORS[i], width: 5 },
      marker: { color: RUN_COLORS[i], size: 2.5 },
      hovertemplate: `${result.label}<br>w %{x:.3f}, b %{y:.3f}<extra></extra>`,
    });
  });
  const axis = (title, range) => ({ title: { text: title }, range, autorange: range ? false : true });
  Plotly.react(view3d, traces, {
    margin: { l: 0, r: 0, t: 0, b: 0 },
    scene: {
      xaxis: axis("w", [state.w_min, state.w_max]),
      yaxis: axis("b", [state.b_min, state.b_max]),
      zaxis: axis(log ? "log₁₀ L" : "L"),
      camera: { eye: { x: 1.5, y: -1.6, z: 1.0 } },
      aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.6 },
    },
    uirevision: "3d",
  }, CONFIG);
}

let listening = false;
function render() {
  renderResults();
  if (!surface) return;
  const traces = surfaceTraces(surface, { color: state.color, cliff: state.cliff });
  const layout = surfaceLayout(state, { legend: true });
  layout.margin.b = 40;
  layout.legend = { orientation: "h", y: -0.12, x: 0, font: { size: 11 } };
  layout.annotations = [];
  results.forEach((result, i) => {
    const run = result.points;
    traces.push(...runTraces(run, { color: RUN_COLORS[i], name: result.label, legend: true }));
    const note = offAxesNote(run, state, Infinity, RUN_COLORS[i]);
    if (note) {
      layout.annotations.push({ ...note, ay: note.ay + Math.sign(note.ay) * 38 * layout.annotations.length,
        text: `run ${i + 1}: ${note.text}` });
    }
  });
  draw(contour, traces, layout).then(() => {
    if (!listening) {
      listening = true;
      contour.on("plotly_click", (event) => {
        const point = event.points?.[0];
        if (!point) return;
        state.w0 = Math.round(point.x * 1000) / 1000;
        state.b0 = Math.round(point.y * 1000) / 1000;
        fillForm(form, TABLE, state);
        saveURL();
        computeRuns();
      });
    }
  });
  render3d();
}

// ---------------------------------------------------------------- controls
bindForm(form, TABLE, state, (key) => {
  saveURL();
  if (MODEL_KEYS.includes(key) || ["w_min", "w_max", "b_min", "b_max", "n"].includes(key)) {
    loadSurface();
    if (MODEL_KEYS.includes(key)) computeRuns();
  } else if (key === "w0" || key === "b0") {
    computeRuns();
  } else {
    render();
  }
});
form.addEventListener("submit", (event) => event.preventDefault());

window.addEventListener("popstate", () => {
  const q = new URLSearchParams(location.search);
  Object.assign(state, readState(TABLE, q));
  runs = readRuns(q, state.runs);
  fillForm(form, TABLE, state);
  buildRunsTable();
  loadSurface();
  computeRuns();
});

buildRunsTable();
loadSurface();
computeRuns();
