// A page's status: a progress indicator while anything is being computed, and the
// server's reason when it refuses a request (a message, never a blank plot).

export function statusLine(progress, alertBox) {
  let busy = 0;
  return {
    setBusy(delta, text) {
      busy = Math.max(0, busy + delta);
      progress.hidden = busy === 0;
      if (text) progress.querySelector(".progress-text").textContent = text;
      document.body.setAttribute("aria-busy", busy > 0 ? "true" : "false");
    },
    showRefusal(text) {
      alertBox.hidden = !text;
      alertBox.textContent = text ? `The server refused: ${text}` : "";
    },
  };
}
