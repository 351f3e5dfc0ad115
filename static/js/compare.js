// "/" and "/embed": Fig. 10.17 of Deep Learning, live. One surface twice, one start and one learning
// rate, the left run without clipping and the right one with it, streamed in and animated together.

import { fetchSurface, latestOnly, MODEL_KEYS, pick, RUN_KEYS } from "./api.js";
import {
  curveLayout, curveTraces, draw, offAxesNote, reducedMotion, RUN_COLORS, runTraces,
  surfaceLayout, surfaceTraces,
} from "./plots.js";
import { bindForm, defaults, fillForm, readState, SETTINGS, setURL, writeParams } from "./state.js";
import { statusLine } from "./status.js";
import { streamRun } from "./stream.js";

/* global Plotly */

const CLIP_NAMES = {
  none: "Without clipping",
  norm: "With norm clipping",
  value: "With element-wise clipping",
  hidden: "With clipping of δₜ in BPTT",
  random: "With a random step of size v",
};

// Each preset sets these settings and leaves the rest at their defaults.
export const PRESETS = [
  { id: "fig1017", name: "Pascanu et al. 2013 / Deep Learning Fig. 10.17", values: {} },
  { id: "thrown", name: "Straight into the wall: a step thrown far off",
    values: { w0: 5, b0: -2.5, lr: 0.3 } },
  { id: "value-vs-norm", name: "Element-wise (left) against norm clipping (right)",
    values: { baseline: "value" } },
  { id: "overflow", name: "Overflow at T = 1000, rescued by a random step",
    values: { T: 1000, x0: 0, w0: 10, b0: -5, w_max: 12, on_nonfinite: "random_step" } },
];

const PAGE = JSON.parse(document.getElementById("page-data").textContent);
const form = document.getElementById("controls");
const panels = ["left", "right"].map((side, i) => ({
  side,
  plot: document.getElementById(`surface-${side}`),
  heading: document.getElementById(`heading-${side}`),
  summary: document.getElementById(`summary-${side}`),
  color: RUN_COLORS[i],
}));
const curves = document.getElementById("curves");
const { setBusy, showRefusal } = statusLine(document.getElementById("progress"),
  document.getElementById("message"));
const playButton = document.getElementById("play");
const counter = document.getElementById("counter");

const state = readState(SETTINGS);
let surface = null;
const surfaceSignal = latestOnly();
let runs = [];
let cursor = 0; // how many points of each run are drawn
let playing = false;
let timer = null;
let frame = 0;

const emptyRun = () => ({ w: [], b: [], loss: [], grad_w: [], grad_b: [], clipped: [], event: [],
  stopped: null, stop: null, error: null });

function runSpec(panel) {
  const clip = panel.side === "left" ? state.baseline : state.clip;
  // The comparison is about clipping: only the right-hand run gets the rescue from overflow.
  const onNonfinite = panel.side === "left" ? "stop" : state.on_nonfinite;
  return { ...pick(state, RUN_KEYS), clip, on_nonfinite: onNonfinite };
}

function headingOf(panel) {
  const spec = runSpec(panel);
  let text = CLIP_NAMES[spec.clip];
  if (spec.clip !== "none") text += ` (v = ${spec.threshold})`;
  if (spec.on_nonfinite === "random_step") text += ", random step on overflow";
  return text;
}

// ---------------------------------------------------------------- drawing
function render() {
  frame = 0;
  if (!surface) return;
  const k = cursor;
  panels.forEach((panel, i) => {
    const run = runs[i];
    const layout = surfaceLayout(state);
    layout.annotations = [offAxesNote(run, state, k, panel.color)].filter(Boolean);
    const traces = [...panel.surfaceTraces];
    if (run.w.length) traces.push(...runTraces(run, { color: panel.color, name: headingOf(panel), upto: k }));
    const drawn = draw(panel.plot, traces, layout);
    if (!panel.listening) {
      panel.listening = true;
      drawn.then(() => panel.plot.on("plotly_click", onSurfaceClick));
    }
    panel.summary.textContent = summaryOf(run, k);
  });
  draw(curves, curveTraces(runs.map((run, i) => ({ run, name: panels[i].heading.textContent,
    color: panels[i].color })), k), curveLayout(state.steps, curves.clientWidth < 560));
  const shown = Math.min(k, Math.max(...runs.map((r) => r.w.length))) - 1;
  counter.textContent = shown >= 0 ? `step ${shown} of ${state.steps}` : "";
}

function scheduleRender() {
  if (!frame) frame = requestAnimationFrame(render);
}

const sci = (x) => (x === null ? "non-finite" : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3)
  ? x.toExponential(2) : x.toPrecision(3));

function summaryOf(run, k) {
  if (run.error) return run.error;
  const i = Math.min(k, run.w.length) - 1;
  if (i < 0) return "waiting for the first step…";
  const g = run.grad_w[i] === null || run.grad_b[i] === null ? null : Math.hypot(run.grad_w[i], run.grad_b[i]);
  let text = `step ${i}: L = ${sci(run.loss[i])}, ‖g‖ = ${sci(g)}`;
  if (run.clipped[i]) text += " (clipped)";
  if (run.event[i]) text += ` [${run.event[i].replace("_", " ")}]`;
  if (run.stopped && i === run.w.length - 1) {
    text += run.stopped === "nonfinite" ? " — stopped: the numbers overflowed" : " — done";
  }
  return text;
}

// ---------------------------------------------------------------- the surface
async function loadSurface() {
  setBusy(+1, "Computing the surface…");
  try {
    surface = await fetchSurface(state, { signal: surfaceSignal() });
    showRefusal("");
    restyleSurface();
  } catch (err) {
    if (err.name === "AbortError") return;
    surface = null;
    for (const el of [...panels.map((p) => p.plot), curves]) Plotly.purge(el);
    panels.forEach((panel) => { panel.listening = false; });
    showRefusal(err.message);
  } finally {
    setBusy(-1);
  }
}

function restyleSurface() {
  if (!surface) return;
  panels.forEach((panel, i) => {
    panel.surfaceTraces = surfaceTraces(surface, { color: state.color, cliff: state.cliff, showscale: i === 1 });
  });
  scheduleRender();
}

// ---------------------------------------------------------------- the runs
function stopRuns() {
  runs.forEach((run) => run.stop?.());
}

function startRuns() {
  stopRuns();
  runs = panels.map(() => emptyRun());
  cursor = 0;
  panels.forEach((panel) => { panel.heading.textContent = headingOf(panel); });
  const model = pick(state, MODEL_KEYS);
  let pending = panels.length;
  setBusy(+1, "Computing the runs…");
  const finish = () => {
    pending -= 1;
    if (pending === 0) setBusy(-1);
    scheduleRender();
  };
  panels.forEach((panel, i) => {
    const run = runs[i];
    const params = new URLSearchParams({ ...model, w0: state.w0, b0: state.b0, ...runSpec(panel) });
    run.stop = streamRun(params, {
      onPoint(p) {
        for (const key of ["w", "b", "loss", "grad_w", "grad_b", "clipped", "event"]) run[key].push(p[key]);
        if (reducedMotion() && !playing) cursor = Infinity;
        scheduleRender();
      },
      onDone(end) {
        run.stopped = end.stopped;
        finish();
      },
      onError(message) {
        run.error = message;
        showRefusal(message);
        finish();
      },
    });
  });
  play(!reducedMotion());
}

// ---------------------------------------------------------------- the player
// The cursor follows the clock, not the frames: a slow machine skips frames, not time.
let clock = null; // { t0, from }

function tick(now) {
  timer = null;
  if (!playing) return;
  const longest = Math.max(...runs.map((r) => r.w.length));
  const allDone = runs.every((r) => r.stopped || r.error);
  clock ??= { t0: now, from: cursor };
  const due = clock.from + Math.floor(((now - clock.t0) / 1000) * state.speed);
  if (due !== cursor) {
    cursor = Math.min(due, longest);
    if (cursor < due) clock = { t0: now, from: cursor }; // waiting for the stream
    scheduleRender();
  }
  if (cursor >= longest && allDone) {
    play(false);
    return;
  }
  timer = requestAnimationFrame(tick);
}

function play(on) {
  playing = on;
  if (timer) cancelAnimationFrame(timer);
  timer = null;
  clock = null;
  if (on) {
    const longest = Math.max(...runs.map((r) => r.w.length));
    if (cursor === Infinity || (cursor >= longest && runs.every((r) => r.stopped || r.error))) cursor = 0;
    timer = requestAnimationFrame(tick);
  }
  playButton.textContent = on ? "Pause" : "Play";
  playButton.setAttribute("aria-pressed", on ? "true" : "false");
}

playButton.addEventListener("click", () => play(!playing));
document.getElementById("step").addEventListener("click", () => {
  play(false);
  const longest = Math.max(...runs.map((r) => r.w.length));
  cursor = Math.min(cursor === Infinity ? longest : cursor + 1, longest);
  scheduleRender();
});
document.getElementById("restart").addEventListener("click", () => startRuns());

// ---------------------------------------------------------------- state ⇄ URL ⇄ controls
const SURFACE_ONLY = new Set(["w_min", "w_max", "b_min", "b_max", "n"]);
const MODEL = new Set(MODEL_KEYS);
const presetSelect = document.getElementById("preset");

function query() {
  return writeParams(SETTINGS, state, new URLSearchParams());
}

function matchingPreset() {
  const base = defaults(SETTINGS);
  return PRESETS.find((p) => Object.keys(SETTINGS).every((k) =>
    k === "speed" || state[k] === (k in p.values ? p.values[k] : base[k])));
}

function syncChrome() {
  if (presetSelect) presetSelect.value = matchingPreset()?.id ?? "";
  const code = document.getElementById("embed-code");
  if (code) {
    const q = query().toString();
    code.value = `<iframe src="${location.origin}/embed${q ? `?${q}` : ""}" `
      + 'title="Gradient clipping on the cliff (cliffscape)" width="100%" height="760" '
      + 'style="border:0" loading="lazy"></iframe>';
  }
  const open = document.getElementById("open-full");
  if (open) open.href = `/${query().toString() ? `?${query()}` : ""}`;
}

function changed(keys, { push = true } = {}) {
  setURL(query(), { push });
  syncChrome();
  const ks = [...keys];
  if (ks.some((k) => MODEL.has(k) || SURFACE_ONLY.has(k))) loadSurface();
  else if (ks.some((k) => k === "color" || k === "cliff")) restyleSurface();
  if (ks.some((k) => MODEL.has(k) || k === "w0" || k === "b0" || RUN_KEYS.includes(k) || k === "baseline")) {
    startRuns();
  } else if (ks.includes("speed") && playing) {
    play(true);
  }
}

bindForm(form, SETTINGS, state, (key) => changed([key], { push: key !== "speed" }));
form.addEventListener("submit", (event) => event.preventDefault());

if (presetSelect) {
  presetSelect.addEventListener("change", () => {
    const preset = PRESETS.find((p) => p.id === presetSelect.value);
    if (!preset) return;
    const speed = state.speed;
    Object.assign(state, defaults(SETTINGS), preset.values, { speed });
    fillForm(form, SETTINGS, state);
    changed(Object.keys(SETTINGS));
  });
}

window.addEventListener("popstate", () => {
  Object.assign(state, readState(SETTINGS));
  fillForm(form, SETTINGS, state);
  syncChrome();
  loadSurface();
  startRuns();
});

// A click on either surface starts both runs again from there.
function onSurfaceClick(event) {
  const point = event.points?.[0];
  if (!point) return;
  state.w0 = Math.round(point.x * 1000) / 1000;
  state.b0 = Math.round(point.y * 1000) / 1000;
  fillForm(form, SETTINGS, state);
  changed(["w0", "b0"]);
}

const copyButton = document.getElementById("copy-embed");
if (copyButton) {
  copyButton.addEventListener("click", async () => {
    const code = document.getElementById("embed-code");
    const note = document.getElementById("copy-note");
    try {
      await navigator.clipboard.writeText(code.value);
      note.textContent = "Copied: paste it into your course page.";
    } catch {
      code.focus();
      code.select();
      note.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
}

// An embedded view tells its host how tall it is, for hosts that size their iframes.
if (PAGE.page === "embed" && window.parent !== window) {
  let last = 0;
  new ResizeObserver(() => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "cliffscape:height", height }, "*");
    }
  }).observe(document.body);
}

// ---------------------------------------------------------------- start
syncChrome();
panels.forEach((panel) => { panel.heading.textContent = headingOf(panel); });
loadSurface();
startRuns();
