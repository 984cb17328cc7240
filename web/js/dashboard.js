// Dashboard: the server now (sessions, transfers, throughput, failed logins, bans), its last hour (a
// chart of one sample every 10 s), the passive port pools and the certificates' expiry.
import {get} from "./api.js";
import {alertBox, el, fill, rate, table} from "./dom.js";

const REFRESH_MS = 5000;

function card(label, value) {
  return el("div", {class: "col"},
    el("div", {class: "card h-100"},
      el("div", {class: "card-body"},
        el("div", {class: "text-muted small"}, label),
        el("div", {class: "fs-4"}, value))));
}

function drawChart(canvas, chart, history) {
  const samples = history.samples.concat([history.now]);
  const labels = samples.map((s) => new Date(s.time).toLocaleTimeString());
  const sent = samples.map((s) => s.sent_per_second);
  const received = samples.map((s) => s.received_per_second);
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets[0].data = sent;
    chart.data.datasets[1].data = received;
    chart.update("none");
    return chart;
  }
  if (typeof window.Chart !== "function") return null;
  return new window.Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        {label: "Sent (bytes/s)", data: sent, borderColor: "#0d6efd", pointRadius: 0},
        {label: "Received (bytes/s)", data: received, borderColor: "#198754", pointRadius: 0},
      ],
    },
    options: {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: true}}},
  });
}

export function render(container, context) {
  const cards = el("div", {class: "row row-cols-2 row-cols-md-3 row-cols-lg-6 g-3 mb-4"});
  const canvas = el("canvas", {role: "img", "aria-label": "Throughput over the last hour"});
  const summary = el("p", {class: "visually-hidden"});
  const pools = el("div");
  const certs = el("div");
  const message = el("div");
  fill(container,
    el("h1", {class: "h3"}, "Dashboard"), message, cards,
    el("h2", {class: "h5"}, "Throughput, last hour"), el("div", {class: "chart-box mb-4"}, canvas), summary,
    el("div", {class: "row"}, el("div", {class: "col-md-6"}, pools), el("div", {class: "col-md-6"}, certs)));
  let chart = null;
  let stopped = false;

  async function refresh() {
    try {
      const [status, history] = await Promise.all([get("/api/v1/status"), get("/api/v1/status/history")]);
      if (stopped) return;
      fill(message);
      const failed = status.logins.failed + status.manager.failed_logins;
      fill(cards,
        card("Sessions", status.sessions),
        card("Transfers", status.transfers),
        card("Sending now", rate(history.now.sent_per_second)),
        card("Receiving now", rate(history.now.received_per_second)),
        card("Failed logins", failed),
        card("Banned addresses", status.bans));
      chart = drawChart(canvas, chart, history);
      summary.textContent = `Now: sending ${rate(history.now.sent_per_second)}, receiving ` +
        `${rate(history.now.received_per_second)}.`;
      fill(pools, table("Passive ports per domain", ["Domain", "Ports", "In use", "Cooling", "Free"],
        status.passive_ports.map((p) =>
          [p.domain, p.capacity, p.in_use, p.cooling, p.free])));
      fill(certs, table("Certificates", ["Domain", "Expires", "Days left"],
        status.certificates.map((c) => [c.domain, c.not_after,
          el("span", {class: c.days_left < 30 ? "badge text-bg-danger" : "badge text-bg-success"},
            c.days_left)]), "No certificate."));
    } catch (error) {
      if (!stopped) fill(message, alertBox("danger", error.message));
    }
  }

  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
    if (chart) chart.destroy();
  };
}
