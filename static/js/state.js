// The URL is the state: one declarative table of every setting, its default and its range,
// read from and written to the query string, so that every view is a link to share.

const int = (def, min, max) => ({ kind: "int", default: def, min, max });
const num = (def, min, max, exclusiveMin = false) => ({ kind: "float", default: def, min, max, exclusiveMin });
const choice = (def, options) => ({ kind: "choice", default: def, options });
const bool = (def) => ({ kind: "bool", default: def });

const OPTIMIZERS = ["gd", "momentum", "nesterov", "adam", "gauss_newton"];
const CLIPS = ["none", "norm", "value", "hidden", "random"];

// Ranges are the API's (core/limits.py), except steps: the pages animate every step,
// so they stop at 10 000 where the API goes on to 100 000.
export const SETTINGS = {
  // the model (SPEC §1); defaults are Pascanu et al. (2013)
  T: int(50, 1, 1000),
  x0: num(0.5, -1e3, 1e3),
  target: num(0.7, -1e3, 1e3),
  activation: choice("sigmoid", ["sigmoid", "tanh"]),
  reg: num(0, 0, 1e3),
  // the window on (w, b) and the grid
  w_min: num(0, -1e3, 1e3),
  w_max: num(10, -1e3, 1e3),
  b_min: num(-8, -1e3, 1e3),
  b_max: num(2, -1e3, 1e3),
  n: int(201, 2, 1024),
  color: choice("linear", ["linear", "log"]),
  cliff: bool(true),
  // where every run starts: on the plateau below the wall, as in Fig. 10.17
  w0: num(6, -1e3, 1e3),
  b0: num(-4.5, -1e3, 1e3),
  // the run; on "/" the left panel uses `baseline` clipping, the right panel `clip`
  optimizer: choice("gd", OPTIMIZERS),
  lr: num(1, 0, 1e3, true),
  steps: int(100, 0, 10000),
  baseline: choice("none", CLIPS),
  clip: choice("norm", CLIPS),
  threshold: num(1, 0, 1e6, true),
  momentum: num(0.9, 0, 0.999),
  damping: num(1, 0, 1e6, true),
  on_nonfinite: choice("stop", ["stop", "random_step"]),
  seed: int(0, 0, Number.MAX_SAFE_INTEGER),
  // the animation, in steps per second
  speed: int(20, 1, 500),
};

// One run of the explorer, written to the URL as r1.lr=…, r2.clip=… (defaults left out).
export const RUN_SETTINGS = {
  optimizer: choice("gd", OPTIMIZERS),
  lr: num(1, 0, 1e3, true),
  steps: int(100, 0, 10000),
  clip: choice("none", CLIPS),
  threshold: num(1, 0, 1e6, true),
  momentum: num(0.9, 0, 0.999),
  damping: num(1, 0, 1e6, true),
  on_nonfinite: choice("stop", ["stop", "random_step"]),
  seed: int(0, 0, Number.MAX_SAFE_INTEGER),
};

/** The value of `raw` under `spec`, or undefined when it is not allowed (the default then wins). */
export function parseValue(spec, raw) {
  if (raw === null || raw === undefined || raw === "") return undefined;
  switch (spec.kind) {
    case "choice":
      return spec.options.includes(raw) ? raw : undefined;
    case "bool":
      return raw === "1" || raw === "true" || raw === true ? true
        : raw === "0" || raw === "false" || raw === false ? false : undefined;
    default: {
      const x = Number(raw);
      if (!Number.isFinite(x)) return undefined;
      if (spec.kind === "int" && !Number.isInteger(x)) return undefined;
      if (x < spec.min || x > spec.max || (spec.exclusiveMin && x === spec.min)) return undefined;
      return x;
    }
  }
}

export function defaults(table) {
  return Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.default]));
}

/** Every setting of `table` from the query string, each falling back to its default. */
export function readState(table, params = new URLSearchParams(location.search), prefix = "",
  base = defaults(table)) {
  const state = { ...base };
  for (const [key, spec] of Object.entries(table)) {
    const value = parseValue(spec, params.get(prefix + key));
    if (value !== undefined) state[key] = value;
  }
  return state;
}

function format(spec, value) {
  return spec.kind === "bool" ? (value ? "1" : "0") : String(value);
}

/** Write the settings that differ from `base` (the defaults) into `params`. */
export function writeParams(table, state, params, prefix = "", base = defaults(table)) {
  for (const [key, spec] of Object.entries(table)) {
    if (state[key] === undefined || state[key] === base[key]) params.delete(prefix + key);
    else params.set(prefix + key, format(spec, state[key]));
  }
  return params;
}

/** Put `params` in the address bar: push for a deliberate change, replace for small ones. */
export function setURL(params, { push = false } = {}) {
  const query = params.toString();
  const url = location.pathname + (query ? `?${query}` : "");
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

/** Range hints for the browser's own validation, from the same table. */
export function describeInput(input, spec) {
  if (spec.kind === "int" || spec.kind === "float") {
    if (spec.min !== undefined) input.min = spec.exclusiveMin ? "" : String(spec.min);
    if (spec.max !== undefined && spec.max < 1e15) input.max = String(spec.max);
    input.step = spec.kind === "int" ? "1" : "any";
  }
}

/** Fill the form's named controls from `state`. */
export function fillForm(form, table, state) {
  for (const [key, spec] of Object.entries(table)) {
    const input = form.elements.namedItem(key);
    if (!input) continue;
    if (spec.kind === "bool") input.checked = Boolean(state[key]);
    else input.value = String(state[key]);
  }
}

/**
 * Read one changed control back into a state value; returns undefined (and marks the
 * control invalid, with the allowed range) when the value is not allowed.
 */
export function readControl(input, spec) {
  const raw = spec.kind === "bool" ? input.checked : input.value;
  const value = parseValue(spec, raw);
  input.setAttribute("aria-invalid", value === undefined ? "true" : "false");
  if (value === undefined && spec.min !== undefined) {
    input.title = `allowed: ${spec.exclusiveMin ? "more than" : "from"} ${spec.min} to ${spec.max}`;
  } else {
    input.removeAttribute("title");
  }
  return value;
}

/** Bind every named control of `form` that `table` knows: state follows the controls. */
export function bindForm(form, table, state, onChange) {
  for (const [key, spec] of Object.entries(table)) {
    const input = form.elements.namedItem(key);
    if (!input) continue;
    describeInput(input, spec);
    input.addEventListener("change", () => {
      const value = readControl(input, spec);
      if (value === undefined || value === state[key]) return;
      state[key] = value;
      onChange(key);
    });
  }
  fillForm(form, table, state);
}
