// Nodes: the nodes of the cluster ([cluster]), refreshed every three seconds: each node's state (up,
// down when its heartbeat is missing, stopped when it stopped cleanly), its listeners and passive
// ports, and how many sessions it runs. A server without [cluster] says so.
import {get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";

const REFRESH_MS = 3000;
const BADGES = {up: "text-bg-success", down: "text-bg-danger", stopped: "text-bg-secondary"};

function state(node) {
  return el("span", {class: `badge ${BADGES[node.state] || "text-bg-warning"}`}, node.state);
}

export function render(container) {
  const list = el("div");
  fill(container, el("h1", {class: "h3"}, "Nodes"), list);
  let stopped = false;

  async function refresh() {
    try {
      const answer = await get("/api/v1/nodes");
      if (stopped) return;
      if (!answer.cluster) {
        fill(list, el("p", {class: "text-muted"},
          "This server runs alone: its configuration has no [cluster] table."));
        return;
      }
      fill(list, table(`${answer.nodes.length} nodes`,
        ["Node", "State", "Sessions", "Listeners", "Passive", "Version", "Started", "Last heartbeat"],
        answer.nodes.map((n) => [n.this ? `${n.name} (this node)` : n.name, state(n), n.sessions, n.listeners,
          n.passive, n.version, n.started, `${n.heartbeat} (${n.heartbeat_age_seconds} s ago)`]),
        "No node is registered."));
    } catch (error) {
      if (!stopped) fill(list, alertBox("danger", error.message));
    }
  }

  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
