// Logs: a live tail of the session log or of the transfer log. The newest lines come from
// GET /api/v1/logs, new ones from the Server-Sent Events of /api/v1/logs/stream (the browser resumes
// after a lost connection with Last-Event-ID by itself). The filter is applied in the page, to the
// lines shown and to new ones; Pause holds new lines until Resume. The server allows only a few
// streams at once: the page's stop function closes its stream.
import {get} from "./api.js";
import {el, fill} from "./dom.js";

const KEEP = 500;  // lines kept in the page
const RECENT = 200;  // lines asked for when the page opens
const RETRY_MS = 5000;  // after the server refused the stream (too many at once) or ended it for good

export function render(container) {
  const kind = el("select", {id: "log-kind", class: "form-select"},
    el("option", {value: "session"}, "session"), el("option", {value: "transfer"}, "transfer"));
  const filter = el("input", {id: "log-filter", type: "search", class: "form-control", autocomplete: "off",
    "aria-describedby": "log-filter-help"});
  const pause = el("button", {type: "button", class: "btn btn-outline-secondary", "aria-pressed": "false"},
    "Pause");
  const status = el("p", {id: "log-status", class: "small text-muted mb-1", role: "status"});
  const counts = el("p", {id: "log-counts", class: "small text-muted mb-1"});
  const view = el("div", {id: "log-lines", class: "log-lines", tabindex: "0", role: "log",
    "aria-label": "Log lines, oldest first"});
  const form = el("form", {class: "row g-2 align-items-end mb-2"},
    el("div", {class: "col-sm-3"}, el("label", {for: "log-kind", class: "form-label"}, "Kind"), kind),
    el("div", {class: "col-sm-6"}, el("label", {for: "log-filter", class: "form-label"}, "Filter"), filter),
    el("div", {class: "col-sm-3"}, pause),
    el("div", {id: "log-filter-help", class: "form-text mt-1"}, "Filter: only lines containing this text (any case)."));
  form.addEventListener("submit", (event) => event.preventDefault());
  fill(container, el("h1", {class: "h3"}, "Logs"), form, status, counts, view);

  let stopped = false;
  let source = null;
  let retry = null;
  let generation = 0;  // a new kind starts a new generation: answers for an older one are dropped
  let last = 0;  // the highest seq shown or held
  let lines = [];  // {entry, node}, oldest first, at most KEEP
  let held = [];  // entries that came while paused
  let paused = false;
  let lost = false;  // the stream was lost or refused since it was last open
  let pending = 0;  // requests for the recent lines on their way
  let early = [];  // stream lines that came while they were

  const needle = () => filter.value.trim().toLowerCase();
  const matches = (entry, text) => text === "" || entry.text.toLowerCase().includes(text);

  function setStatus(text, kindOfStatus = "muted") {
    status.className = `small mb-1 text-${kindOfStatus}`;
    status.textContent = text;
  }

  function showCounts() {
    const visible = lines.filter((l) => !l.node.hidden).length;
    counts.textContent = `${visible} of ${lines.length} lines shown` +
      (held.length ? `; ${held.length} new lines held while paused` : "");
  }

  function show(entries) {
    const atBottom = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
    const text = needle();
    for (const entry of entries) {
      const level = entry.level === "error" || entry.level === "critical" ? "log-error"
        : entry.level === "warning" || entry.level === "warn" ? "log-warning" : "log-info";
      const node = el("div", {class: `log-line ${level}`, "data-seq": entry.seq}, entry.text);
      node.hidden = !matches(entry, text);
      view.append(node);
      lines.push({entry, node});
    }
    while (lines.length > KEEP) lines.shift().node.remove();
    if (atBottom) view.scrollTop = view.scrollHeight;
    showCounts();
  }

  // Lines newer than any seen (the recent lines and the stream overlap when the stream (re)opens).
  function add(entries) {
    const fresh = entries.filter((e) => e.seq > last);
    if (fresh.length === 0) return;
    last = fresh[fresh.length - 1].seq;
    if (paused) {
      held = held.concat(fresh).slice(-KEEP);
      showCounts();
    } else {
      show(fresh);
    }
  }

  // The newest lines; stream lines that come meanwhile wait for them, so that they come out in order.
  async function recent(ticket) {
    pending += 1;
    try {
      const answer = await get(`/api/v1/logs?kind=${encodeURIComponent(kind.value)}&limit=${RECENT}`);
      if (!stopped && ticket === generation) add(answer.entries);
    } catch (error) {
      if (!stopped && ticket === generation) setStatus(`The recent lines could not be read: ${error.message}`, "danger");
    } finally {
      if (ticket === generation) {
        pending -= 1;
        if (pending === 0 && !stopped) {
          const waiting = early;
          early = [];
          add(waiting);
        }
      }
    }
  }

  function closeStream() {
    clearTimeout(retry);
    retry = null;
    if (source) source.close();
    source = null;
  }

  function openStream(ticket) {
    closeStream();
    setStatus("Connecting to the live log…");
    const stream = new EventSource(`/api/v1/logs/stream?kind=${encodeURIComponent(kind.value)}`);
    source = stream;
    stream.addEventListener("open", () => {
      if (stopped || stream !== source) return;
      setStatus((lost ? `Reconnected at ${new Date().toLocaleTimeString()}. ` : "") +
        (paused ? "Live, paused: new lines are held until Resume." : "Live: new lines appear as they are written."),
      "success");
      lost = false;
      recent(ticket);  // what was written while the stream was away
    });
    stream.addEventListener("message", (event) => {
      if (stopped || stream !== source) return;
      try {
        const entry = JSON.parse(event.data);
        if (pending > 0) early.push(entry);
        else add([entry]);
      } catch {
        // not a line: ignored
      }
    });
    stream.addEventListener("error", () => {
      if (stopped || stream !== source) return;
      lost = true;
      if (stream.readyState === EventSource.CONNECTING) {
        setStatus("The connection to the live log was lost: reconnecting…", "warning");
        return;
      }
      // Closed for good (the server refused it: too many streams at once, or the session ended): try
      // again later. The request for the recent lines brings back the sign-in form if the session ended.
      stream.close();
      setStatus(`The server refused the live log (too many streams at once?): retrying in ${RETRY_MS / 1000} s…`,
        "warning");
      retry = setTimeout(() => {
        if (stopped) return;
        recent(ticket);
        openStream(ticket);
      }, RETRY_MS);
    });
  }

  function start() {
    generation += 1;
    closeStream();
    lines = [];
    held = [];
    early = [];
    pending = 0;
    last = 0;
    lost = false;
    fill(view);
    showCounts();
    recent(generation);
    openStream(generation);
  }

  kind.addEventListener("change", start);
  filter.addEventListener("input", () => {
    const text = needle();
    for (const line of lines) line.node.hidden = !matches(line.entry, text);
    showCounts();
  });
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) {
      const waiting = held;
      held = [];
      show(waiting);
    }
    if (source && source.readyState === EventSource.OPEN) {
      setStatus(paused ? "Live, paused: new lines are held until Resume." : "Live: new lines appear as they are written.",
        "success");
    }
    showCounts();
  });

  start();
  return () => {
    stopped = true;
    closeStream();
  };
}
