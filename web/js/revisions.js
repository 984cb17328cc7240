// Revisions: the configuration file's kept revisions (each change keeps the text it replaced), the diff
// between two of them or one and the file as it is, one revision's text, and (admins) a revision
// restored: checked, written (the current text kept as a new revision) and applied.
import {call, get} from "./api.js";
import {alertBox, bytes, el, fill, table} from "./dom.js";

// A unified diff, each line in a span classed by what it is (console.css colors them).
export function diffView(text, id) {
  const kind = (line) => {
    if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
    if (line.startsWith("@@")) return "diff-hunk";
    if (line.startsWith("+")) return "diff-add";
    if (line.startsWith("-")) return "diff-del";
    return "diff-context";
  };
  const lines = text.replace(/\n$/, "").split("\n");
  return el("pre", {class: "diff", id},
    lines.map((line) => el("span", {class: kind(line)}, `${line}\n`)));
}

function describe(r) {
  return `revision ${r.number} (saved ${r.saved})`;
}

export function render(container, context) {
  const message = el("div", {"aria-live": "polite"});
  const list = el("div");
  const compare = el("div");
  const diff = el("div", {id: "revision-diff-box"});
  const viewer = el("div");
  const canRestore = context.roleAtLeast("admin");
  fill(container, el("h1", {class: "h3"}, "Configuration revisions"),
    canRestore ? null : alertBox("info", "Restoring a revision needs the role admin."),
    message, list, compare, diff, viewer);
  let stopped = false;
  let file = "";

  async function showDiff(from, to) {
    fill(diff, el("p", {class: "text-muted"}, "Comparing…"));
    try {
      const answer = await get(`/api/v1/config/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      if (stopped) return;
      const title = `From revision ${answer.from} to ${answer.to === "current" ? "the file as it is" : `revision ${answer.to}`}`;
      fill(diff, el("h2", {class: "h5"}, title), answer.diff
        ? diffView(answer.diff, "revision-diff")
        : el("p", {class: "text-muted", id: "revision-diff"}, "No difference."));
    } catch (error) {
      if (!stopped) fill(diff, alertBox("danger", error.message));
    }
  }

  async function view(r) {
    try {
      const answer = await get(`/api/v1/config/revisions/${r.number}`);
      if (stopped) return;
      fill(viewer, el("h2", {class: "h5"}, `Text of ${describe(answer)}`),
        el("pre", {class: "diff", id: "revision-text", tabindex: "0"}, answer.text));
      viewer.scrollIntoView();
    } catch (error) {
      if (!stopped) fill(viewer, alertBox("danger", error.message));
    }
  }

  async function restore(r) {
    fill(message, el("p", {class: "text-muted"}, `Restoring revision ${r.number}…`));
    try {
      const answer = await call("POST", `/api/v1/config/revisions/${r.number}/restore`);
      if (stopped) return;
      const kept = answer.revision === null ? "" : ` (the text it replaced is kept as revision ${answer.revision})`;
      const parts = [answer.applied
        ? alertBox("success", `Revision ${answer.restored} restored and applied${kept}: new sessions use it now.`)
        : alertBox("warning", `Revision ${answer.restored} written${kept}, not applied: ` +
          `${answer.reload_error || "the server did not reload it"}.`)];
      if (answer.warnings && answer.warnings.length) {
        parts.push(alertBox("warning", el("ul", {class: "mb-0"}, answer.warnings.map((w) => el("li", {}, w)))));
      }
      if (answer.diff) parts.push(diffView(answer.diff, "restore-diff"));
      fill(message, parts);
    } catch (error) {
      if (!stopped) fill(message, alertBox("danger", `Revision ${r.number} not restored: ${error.message}`));
    }
    load();
  }

  // A confirmation in the page with real buttons (no window.confirm).
  function confirmRestore(r) {
    const yes = el("button", {type: "button", class: "btn btn-danger"}, `Yes, restore revision ${r.number}`);
    const no = el("button", {type: "button", class: "btn btn-outline-secondary"}, "Cancel");
    yes.addEventListener("click", () => restore(r));
    no.addEventListener("click", () => fill(message));
    fill(message, el("div", {class: "alert alert-warning", role: "alertdialog",
      "aria-labelledby": "restore-question"},
    el("p", {id: "restore-question"}, `Restore ${describe(r)}? ${file} gets that text back (the text it has ` +
      "now is kept as a new revision) and the server applies it at once."),
    el("div", {class: "d-flex gap-2"}, yes, no)));
    yes.focus();
  }

  function actions(r) {
    return el("div", {class: "btn-group btn-group-sm", role: "group", "aria-label": `Revision ${r.number}`},
      el("button", {type: "button", class: "btn btn-outline-secondary", "data-revision": r.number,
        onclick: () => view(r)}, "View"),
      canRestore ? el("button", {type: "button", class: "btn btn-outline-danger", "data-revision": r.number,
        onclick: () => confirmRestore(r)}, "Restore") : null);
  }

  function compareForm(revisions) {
    const option = (r) => el("option", {value: r.number}, `${r.number} (${r.saved})`);
    const from = el("select", {id: "diff-from", class: "form-select"}, revisions.map(option));
    const to = el("select", {id: "diff-to", class: "form-select"}, revisions.map(option),
      el("option", {value: "current"}, "The file as it is"));
    from.value = String(revisions[revisions.length - 1].number);
    to.value = "current";
    const form = el("form", {class: "row g-2 align-items-end mb-3"},
      el("div", {class: "col-sm-4"}, el("label", {for: "diff-from", class: "form-label"}, "From"), from),
      el("div", {class: "col-sm-4"}, el("label", {for: "diff-to", class: "form-label"}, "To"), to),
      el("div", {class: "col-sm-4"}, el("button", {type: "submit", class: "btn btn-primary"}, "Show the diff")));
    const show = () => showDiff(from.value, to.value);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      show();
    });
    from.addEventListener("change", show);
    to.addEventListener("change", show);
    fill(compare, el("h2", {class: "h5"}, "Compare"), form);
    show();
  }

  async function load() {
    try {
      const answer = await get("/api/v1/config/revisions");
      if (stopped) return;
      file = answer.file;
      const revisions = answer.revisions;
      fill(list, table(`Revisions of ${answer.file}, oldest first (each keeps the text a change replaced)`,
        ["Revision", "Saved", "Size", "Actions"],
        revisions.map((r) => [String(r.number), r.saved, bytes(r.size), actions(r)]),
        "No revision yet: each change made through the Manager or ftpsd config set keeps the text it replaced."));
      if (revisions.length) compareForm(revisions);
      else fill(compare);
    } catch (error) {
      if (!stopped) fill(list, alertBox("danger", error.message));
    }
  }

  load();
  return () => {
    stopped = true;
  };
}
