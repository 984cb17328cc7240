// Bans: the server's ban list (the operators' bans, and the addresses banned after failed FTP logins),
// refreshed every three seconds. Operators and admins ban an address or a network for a while and
// lift a ban; a banned address's next FTP connections are refused before the greeting.
import {call, get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";
import {errorPlaces, field} from "./form.js";

const REFRESH_MS = 3000;

// "2026-12-07T19:05:00Z (in 14 min)".
function until(text) {
  const left = Math.round((Date.parse(text) - Date.now()) / 60000);
  if (Number.isNaN(left)) return text;
  if (left < 1) return `${text} (in less than a minute)`;
  if (left < 120) return `${text} (in ${left} min)`;
  return `${text} (in ${Math.round(left / 60)} h)`;
}

export function render(container, context) {
  const canChange = context.roleAtLeast("operator");
  const result = el("div", {id: "bans-result"});
  const list = el("div");
  let form = null;
  const address = el("input", {id: "ban-address", name: "address", class: "form-control", autocomplete: "off"});
  const duration = el("input", {id: "ban-duration", name: "duration", class: "form-control", autocomplete: "off"});
  const general = el("div");
  const places = errorPlaces({address, duration}, general);
  if (canChange) {
    duration.value = "15m";
    form = el("form", {novalidate: true, class: "mb-4"},
      el("div", {class: "row g-3"},
        el("div", {class: "col-md-5"}, field("Address or network", address,
          "An IP address (203.0.113.9) or a network (203.0.113.0/24).")),
        el("div", {class: "col-md-3"}, field("Duration", duration, "Such as 30s, 15m, 1h."))),
      general,
      el("button", {type: "submit", class: "btn btn-danger"}, "Ban"));
  }
  fill(container, el("h1", {class: "h3"}, "Bans"),
    canChange ? null : el("p", {class: "text-muted"}, "Managing bans needs the role operator or admin."),
    form, result, list);
  let stopped = false;

  async function refresh() {
    try {
      const answer = await get("/api/v1/bans");
      if (stopped) return;
      // The table is rebuilt: a keyboard user's focus stays on the same row's button.
      const focused = document.activeElement;
      const keep = focused && focused.dataset ? focused.dataset.ban : undefined;
      const columns = ["Address or network", "Until", "Reason"];
      if (canChange) columns.push("Actions");
      fill(list, table(`${answer.bans.length} bans in force`, columns, answer.bans.map((b) => {
        const row = [b.address, until(b.until), b.reason];
        if (canChange) {
          row.push(el("button", {type: "button", class: "btn btn-outline-secondary btn-sm", "data-ban": b.address,
            "aria-label": `Remove the ban on ${b.address}`, onclick: () => remove(b.address)}, "Remove"));
        }
        return row;
      }), "No address is banned."));
      if (keep !== undefined) {
        const again = [...list.querySelectorAll("button")].find((b) => b.dataset.ban === keep);
        if (again) again.focus();
      }
    } catch (error) {
      if (!stopped) fill(list, alertBox("danger", error.message));
    }
  }

  async function remove(banned) {
    fill(result);
    try {
      await call("DELETE", `/api/v1/bans/${encodeURIComponent(banned)}`);
      fill(result, alertBox("success", `The ban on ${banned} is lifted: it may connect again.`));
    } catch (error) {
      fill(result, alertBox("danger", error.message));
    }
    await refresh();
    address.focus();
  }

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fill(result);
      try {
        const body = {address: address.value.trim(), duration: duration.value.trim()};
        const ban = await call("POST", "/api/v1/bans", body);
        places.clear();
        address.value = "";
        fill(result, alertBox("success",
          `${ban.address} banned until ${ban.until}: its next connections are refused.`));
      } catch (error) {
        places.show(error);
      }
      refresh();
    });
  }

  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
