// Audit: every change made through the Manager, newest first, with its diff.
import {get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";

export function render(container) {
  const list = el("div");
  fill(container, el("h1", {class: "h3"}, "Audit log"), list);
  get("/api/v1/audit?limit=200").then((answer) => {
    fill(list, table("Changes made through the Manager, newest first",
      ["Time", "Who", "From", "Action", "Target", "Diff"],
      answer.entries.map((e) => [e.time, e.who, e.address, e.action, e.target,
        e.diff ? el("details", {}, el("summary", {}, "Show"), el("pre", {class: "diff"}, e.diff)) : ""]),
      "No change yet."));
  }, (error) => fill(list, alertBox("danger", error.message)));
  return () => {};
}
