// Audit: every change made through the Manager, newest first, with its diff. With [cluster], every
// node's changes, each with its node.
import {get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";

export function render(container) {
  const list = el("div");
  fill(container, el("h1", {class: "h3"}, "Audit log"), list);
  get("/api/v1/audit?limit=200").then((answer) => {
    const cluster = answer.entries.some((e) => "node" in e) || "cluster_error" in answer;
    const columns = ["Time", "Who", "From", "Action", "Target", "Diff"];
    if (cluster) columns.splice(1, 0, "Node");
    fill(list,
      answer.cluster_error ? alertBox("warning", `Only this node's changes: ${answer.cluster_error}`) : null,
      table("Changes made through the Manager, newest first", columns,
        answer.entries.map((e) => {
          const row = [e.time, e.who, e.address, e.action, e.target,
            e.diff ? el("details", {}, el("summary", {}, "Show"), el("pre", {class: "diff"}, e.diff)) : ""];
          if (cluster) row.splice(1, 0, e.node || "");
          return row;
        }),
        "No change yet."));
  }, (error) => fill(list, alertBox("danger", error.message)));
  return () => {};
}
