// One run, streamed: an EventSource on /api/trajectories/stream, its points handed on as they come.

import { refusalOf } from "./api.js";

/**
 * Start streaming one run. `onPoint(point)` for every recorded step, `onDone({stopped, steps})`
 * at the end, `onError(message)` if the server refuses or the connection drops.
 * Returns a function that stops the stream (the server then stops computing).
 */
export function streamRun(params, { onPoint, onDone, onError }) {
  const url = `/api/trajectories/stream?${params}`;
  const source = new EventSource(url);
  let finished = false;
  let received = 0;
  const stop = () => {
    finished = true;
    source.close();
  };
  source.addEventListener("point", (event) => {
    if (finished) return;
    received += 1;
    onPoint(JSON.parse(event.data));
  });
  source.addEventListener("done", (event) => {
    if (finished) return;
    stop();
    onDone(JSON.parse(event.data));
  });
  source.addEventListener("error", async () => {
    if (finished) return;
    stop();
    const why = received === 0 ? await refusalOf(url) : null;
    onError(why ?? "the stream was interrupted; press Restart to try again");
  });
  return stop;
}
