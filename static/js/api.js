// Talking to /api: the surface (as Plotly typed arrays), batches of runs, and the server's refusals.

const DTYPES = { f8: Float64Array, f4: Float32Array, i4: Int32Array, u1: Uint8Array, i1: Int8Array };

/** A Plotly typed-array object {dtype, bdata, shape} as a Float64Array, or rows of one. */
export function decodeArray(value) {
  if (!value || typeof value !== "object" || !("bdata" in value)) return value;
  const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
  const Typed = DTYPES[value.dtype] ?? Float64Array;
  const flat = new Typed(bytes.buffer);
  const shape = String(value.shape ?? flat.length).split(",").map(Number);
  if (shape.length < 2) return flat;
  const [rows, cols] = shape;
  return Array.from({ length: rows }, (_, i) => flat.subarray(i * cols, (i + 1) * cols));
}

/** What a refusal says, in one line a learner can act on. */
export function describeRefusal(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const where = Array.isArray(d.loc) ? d.loc.filter((x) => x !== "query" && x !== "body").join(".") : "";
      return where ? `${where}: ${d.msg}` : d.msg;
    }).join("; ");
  }
  return `the server answered ${status}`;
}

export class Refusal extends Error {}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new Refusal(describeRefusal(response.status, body));
  return body;
}

export const MODEL_KEYS = ["T", "x0", "target", "activation", "reg"];
export const SURFACE_KEYS = [...MODEL_KEYS, "w_min", "w_max", "b_min", "b_max", "n"];
export const RUN_KEYS = ["optimizer", "lr", "steps", "clip", "threshold", "momentum", "damping",
  "on_nonfinite", "seed"];

export function pick(state, keys) {
  return Object.fromEntries(keys.map((k) => [k, state[k]]));
}

/** GET /api/surface, its arrays decoded. */
/**
 * Signals for a request that each newer one replaces: taking the next signal aborts
 * the request before it, so a slow, stale answer never overwrites a fresh one.
 */
export function latestOnly() {
  let current = null;
  return () => {
    current?.abort();
    current = new AbortController();
    return current.signal;
  };
}

export async function fetchSurface(state, { signal } = {}) {
  const params = new URLSearchParams(pick(state, SURFACE_KEYS));
  params.set("encoding", "typed");
  const body = await answer(await fetch(`/api/surface?${params}`, { signal }));
  for (const key of ["w", "b", "loss", "grad_w", "grad_b"]) body[key] = decodeArray(body[key]);
  return body;
}

/** POST /api/trajectories: every run from one start. */
export async function postTrajectories(model, start, runs, { signal } = {}) {
  const response = await fetch("/api/trajectories", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model, start, runs }),
    signal,
  });
  return answer(response);
}

/** Ask again with fetch, to read why a request was refused (EventSource cannot see the body). */
export async function refusalOf(url) {
  try {
    await answer(await fetch(url));
    return null;
  } catch (err) {
    return err instanceof Refusal ? err.message : "the server could not be reached";
  }
}
