// Sessions: the live list, refreshed every two seconds; operators and admins may end one (the client
// gets 421) or, once the API takes ?ban= (its OpenAPI document says so), end it and ban its address
// for 15 minutes. With [cluster] the list holds every node's sessions, with their node, and a session
// on another node ends the same way.
import {call, get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";

const REFRESH_MS = 2000;

function transfer(t) {
  if (!t) return "";
  return `${t.command} ${t.path} (${t.bytes} bytes)`;
}

function takesBan(api) {
  const route = api && api.paths["/api/v1/sessions/{id}"];
  return Boolean(route && route.delete && (route.delete.parameters || []).some((p) => p.name === "ban"));
}

export function render(container, context) {
  const canBan = takesBan(context.api);
  const message = el("div", {"aria-live": "polite"});
  const list = el("div");
  fill(container, el("h1", {class: "h3"}, "Sessions"), message, list);
  let stopped = false;

  async function end(session, ban) {
    const query = ban ? "?ban=15m" : "";
    try {
      await call("DELETE", `/api/v1/sessions/${encodeURIComponent(session.id)}${query}`);
      fill(message, alertBox("success",
        ban ? `Session ${session.id} ended and ${session.client} banned for 15 minutes.`
          : `Session ${session.id} ended.`));
    } catch (error) {
      fill(message, alertBox("danger", error.message));
    }
    refresh();
  }

  function actions(session) {
    if (!context.roleAtLeast("operator")) return "";
    return el("div", {class: "btn-group btn-group-sm", role: "group",
      "aria-label": `Session ${session.id}`},
    el("button", {type: "button", class: "btn btn-outline-danger", "data-session": session.id,
      "data-action": "end", onclick: () => end(session, false)}, "Disconnect"),
    canBan ? el("button", {type: "button", class: "btn btn-danger", "data-session": session.id,
      "data-action": "ban", onclick: () => end(session, true)}, "Disconnect and ban") : null);
  }

  async function refresh() {
    try {
      const answer = await get("/api/v1/sessions");
      if (stopped) return;
      // The table is rebuilt: a keyboard user's focus stays on the same button.
      const focused = document.activeElement;
      const keep = focused && focused.dataset && focused.dataset.session
        ? `button[data-session="${CSS.escape(focused.dataset.session)}"][data-action="${focused.dataset.action}"]`
        : null;
      // With [cluster] every session names its node, and the list is the whole cluster's.
      const cluster = answer.sessions.some((s) => "node" in s) || "cluster_error" in answer;
      const columns = ["ID", "User", "Client", "Domain", "TLS", "Transfer", "Idle (s)", "Started", "Actions"];
      if (cluster) columns.splice(1, 0, "Node");
      fill(list,
        answer.cluster_error ? alertBox("warning", `Only this node's sessions: ${answer.cluster_error}`) : null,
        table(`${answer.sessions.length} live sessions`, columns,
          answer.sessions.map((s) => {
            const row = [s.id, s.user === null ? "(not logged in)" : s.user, s.client, s.domain,
              s.tls || "none", transfer(s.transfer), s.idle_seconds, s.started, actions(s)];
            if (cluster) row.splice(1, 0, s.node);
            return row;
          }),
          "No session."));
      if (keep) {
        const again = list.querySelector(keep);
        if (again) again.focus();
      }
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
