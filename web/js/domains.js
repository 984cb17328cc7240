// Domains -> a domain -> Services -> FTP/S: the listeners and TLS mode, and the passive settings form.
// What the form would change (the configuration file's diff, the firewall rules to open) is shown
// as it is typed, from PUT .../passive?dry_run=1; "Apply" writes and applies it.
import {ApiError, call, get} from "./api.js";
import {alertBox, el, fill, table} from "./dom.js";

const FORMATS = [
  ["text", "In words"],
  ["nftables", "nftables"],
  ["iptables", "iptables"],
  ["ufw", "ufw"],
  ["firewalld", "firewalld"],
];
const FIELDS = {address: "passive-address", ports: "passive-ports"};

function domainPath(name) {
  return `/api/v1/domains/${encodeURIComponent(name)}`;
}

function link(hash, text) {
  return el("a", {href: hash}, text);
}

function breadcrumb(...items) {
  const last = items.length - 1;
  return el("nav", {"aria-label": "Breadcrumb"}, el("ol", {class: "breadcrumb"},
    items.map((item, i) => el("li", {class: i === last ? "breadcrumb-item active" : "breadcrumb-item",
      "aria-current": i === last ? "page" : null}, i === last ? item[1] : link(item[0], item[1])))));
}

function listDomains(container) {
  const list = el("div");
  fill(container, breadcrumb(["#/domains", "Domains"]), el("h1", {class: "h3"}, "Domains"), list);
  get("/api/v1/domains").then((answer) => {
    fill(list, table("The FTP sites of this server", ["Domain", "Host names"],
      answer.domains.map((d) => [link(`#/domains/${encodeURIComponent(d.name)}`, d.name),
        (d.hosts || []).join(", ") || "(every other name)"])));
  }, (error) => fill(list, alertBox("danger", error.message)));
}

function showDomain(container, name) {
  fill(container,
    breadcrumb(["#/domains", "Domains"], ["", name]),
    el("h1", {class: "h3"}, name),
    el("h2", {class: "h5"}, "Services"),
    el("ul", {}, el("li", {}, link(`#/domains/${encodeURIComponent(name)}/services/ftp`, "FTP/S"))));
}

function copyButton(label, pre) {
  const button = el("button", {type: "button", class: "btn btn-outline-secondary btn-sm"}, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(pre.textContent);
      button.textContent = "Copied";
    } catch {
      // No clipboard (plain HTTP): select the rules for Ctrl-C.
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl-C";
    }
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
  return button;
}

function plan(answer) {
  const parts = [];
  if (answer.warnings && answer.warnings.length) {
    parts.push(alertBox("warning", el("ul", {class: "mb-0"}, answer.warnings.map((w) => el("li", {}, w)))));
  }
  parts.push(el("h3", {class: "h6"}, "Changes to the configuration file"));
  parts.push(answer.diff ? el("pre", {class: "diff", id: "passive-diff"}, answer.diff)
    : el("p", {class: "text-muted", id: "passive-diff"}, "No change."));
  parts.push(el("h3", {class: "h6"}, "What to open on the firewall"));
  for (const [format, title] of FORMATS) {
    const rules = answer.firewall && answer.firewall[format];
    if (rules === undefined || rules === null) continue;
    const pre = el("pre", {class: "rules", id: `firewall-${format}`}, rules);
    parts.push(el("div", {class: "mb-3"},
      el("div", {class: "d-flex align-items-center gap-2"}, el("h4", {class: "h6 mb-0"}, title),
        copyButton(`Copy ${title === "In words" ? "text" : title} rules`, pre)),
      pre));
  }
  return parts;
}

function ftpService(container, name) {
  const listeners = el("div");
  const result = el("div", {"aria-live": "polite"});
  const preview = el("div", {id: "passive-preview"});
  const general = el("div");
  const address = el("input", {id: "passive-address", name: "address", class: "form-control",
    "aria-describedby": "passive-address-help passive-address-error", autocomplete: "off"});
  const ports = el("input", {id: "passive-ports", name: "ports", class: "form-control",
    "aria-describedby": "passive-ports-help passive-ports-error", autocomplete: "off"});
  const apply = el("button", {type: "submit", class: "btn btn-primary"}, "Apply");
  const form = el("form", {novalidate: true},
    el("div", {class: "mb-3"},
      el("label", {for: "passive-address", class: "form-label"}, "Passive IP address"), address,
      el("div", {id: "passive-address-help", class: "form-text"},
        "The address clients are told to connect to for data: the firewall's public address or a host " +
        "name. Empty: the address of the control connection."),
      el("div", {id: "passive-address-error", class: "invalid-feedback"})),
    el("div", {class: "mb-3"},
      el("label", {for: "passive-ports", class: "form-label"}, "Passive port range"), ports,
      el("div", {id: "passive-ports-help", class: "form-text"},
        "First and last port, such as 50000-50099; one port per data connection at a time."),
      el("div", {id: "passive-ports-error", class: "invalid-feedback"})),
    general, apply);

  fill(container,
    breadcrumb(["#/domains", "Domains"], [`#/domains/${encodeURIComponent(name)}`, name], ["", "FTP/S"]),
    el("h1", {class: "h3"}, `FTP/S of ${name}`),
    listeners,
    el("h2", {class: "h5"}, "Passive mode"),
    el("div", {class: "row"},
      el("div", {class: "col-lg-5"}, form, result),
      el("div", {class: "col-lg-7"}, preview)));

  const canEdit = context().roleAtLeast("admin");
  if (!canEdit) {
    for (const input of [address, ports, apply]) input.disabled = true;
    general.append(alertBox("info", "Changing these settings needs the role admin."));
  }

  function body() {
    const value = (input) => (input.value.trim() === "" ? null : input.value.trim());
    return {address: value(address), ports: value(ports)};
  }

  function clearErrors() {
    for (const id of Object.values(FIELDS)) {
      document.getElementById(id).classList.remove("is-invalid");
      document.getElementById(id).removeAttribute("aria-invalid");
      document.getElementById(`${id}-error`).textContent = "";
    }
    fill(general);
  }

  function showError(error) {
    const id = FIELDS[error.field];
    if (error instanceof ApiError && error.status === 422 && id) {
      const input = document.getElementById(id);
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      document.getElementById(`${id}-error`).textContent = error.message;
    } else {
      fill(general, alertBox("danger", error.message));
    }
  }

  let previewed = 0;
  async function dryRun() {
    const ticket = ++previewed;
    try {
      const answer = await call("PUT", `${domainPath(name)}/passive?dry_run=1`, body());
      if (ticket !== previewed) return;
      clearErrors();
      fill(preview, el("h2", {class: "h5"}, "Before you apply"), plan(answer));
    } catch (error) {
      if (ticket !== previewed) return;
      clearErrors();
      fill(preview);
      showError(error);
    }
  }

  let typing = null;
  for (const input of [address, ports]) {
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(dryRun, 400);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(typing);
    previewed += 1;  // a preview still on its way is stale now
    apply.disabled = true;
    fill(result, el("p", {class: "text-muted"}, "Applying…"));
    try {
      const answer = await call("PUT", `${domainPath(name)}/passive`, body());
      clearErrors();
      const revision = answer.revision === null ? "" : ` (revision ${answer.revision})`;
      fill(result, alertBox("success", answer.applied
        ? `Applied${revision}: new sessions use these settings now.`
        : `Written${revision}, not applied.`));
      fill(preview, el("h2", {class: "h5"}, "Applied"), plan(answer));
    } catch (error) {
      clearErrors();
      fill(result);
      showError(error);
    } finally {
      apply.disabled = !canEdit;
    }
  });

  Promise.all([get(domainPath(name)), get(`${domainPath(name)}/passive`)]).then(([domain, passive]) => {
    fill(listeners, table("Listeners", ["Address", "TLS"],
      (domain.listeners || []).map((l) => [l.address, l.tls])));
    address.value = passive.address || "";
    ports.value = passive.ports || "";
  }, (error) => fill(listeners, alertBox("danger", error.message)));
}

let current = null;
function context() {
  return current;
}

export function render(container, ctx, parts) {
  current = ctx;
  if (parts.length === 0) listDomains(container);
  else if (parts.length >= 3 && parts[1] === "services" && parts[2] === "ftp") ftpService(container, parts[0]);
  else showDomain(container, parts[0]);
  return () => {};
}
