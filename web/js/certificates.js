// Certificates: what each domain serves (subject, names, issuer, expiry, key) and, for admins, a new
// certificate and key installed (PUT .../certificates): the server checks the pair first and says which
// field it refuses; the next TLS connections get the new certificate.
import {ApiError, call, get} from "./api.js";
import {alertBox, el, fill} from "./dom.js";

const WARN_DAYS = 30;
const FIELDS = {certificate: "cert-pem", private_key: "key-pem"};

function certificatesPath(domain) {
  return `/api/v1/domains/${encodeURIComponent(domain)}/certificates`;
}

// "2027-03-01T12:00:00Z (120 days left)", styled: a warning under 30 days, danger once expired.
function expiry(c) {
  let kind = "success";
  let words = `${c.days_left} days left`;
  if (c.days_left < 0) {
    kind = "danger";
    words = `expired ${-c.days_left} days ago`;
  } else if (c.days_left < WARN_DAYS) {
    kind = "warning";
  }
  return el("span", {},
    `${c.not_after} `,
    el("span", {class: `badge text-bg-${kind}`, "data-expiry": kind}, words));
}

function row(term, ...value) {
  return [el("dt", {class: "col-sm-3"}, term), el("dd", {class: "col-sm-9"}, ...value)];
}

function certificateCard(c) {
  if (c.error) return alertBox("danger", c.error);
  return el("div", {class: "card mb-3 certificate"},
    el("div", {class: "card-body"},
      el("h3", {class: "h6 card-title"}, c.subject),
      el("dl", {class: "row mb-0"},
        row("Names", (c.names || []).join(", ") || "(none)"),
        row("Issuer", c.issuer),
        row("Expires", expiry(c)),
        row("Valid from", c.not_before),
        row("Key", `${c.key_type} ${c.key_bits} bits`),
        row("Serial", c.serial),
        row("Chain", `${c.chain} certificate${c.chain === 1 ? "" : "s"} in the file`),
        c.hosts && c.hosts.length ? row("For the host names", c.hosts.join(", ")) : null,
        row("Files", c.certificate_file, el("br"), c.private_key_file))));
}

function showCertificates(node, answer) {
  fill(node, answer.certificates.length
    ? answer.certificates.map(certificateCard)
    : el("p", {class: "text-muted"}, "This domain serves no certificate (TLS was not configured)."));
}

// A PEM textarea with a file input that fills it (the file is read in the browser, never uploaded as is).
function pemField(id, label, fileLabel, help) {
  const area = el("textarea", {id, class: "form-control font-monospace", rows: 6, spellcheck: "false",
    autocomplete: "off", "aria-describedby": `${id}-help ${id}-error`});
  const file = el("input", {id: `${id}-file`, type: "file", class: "form-control form-control-sm",
    accept: ".pem,.crt,.cer,.key,text/plain"});
  file.addEventListener("change", () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      area.value = String(reader.result);
      area.dispatchEvent(new Event("input"));
    });
    reader.readAsText(chosen);
  });
  return {area, file, node: el("div", {class: "mb-3"},
    el("label", {for: id, class: "form-label"}, label), area,
    el("div", {id: `${id}-help`, class: "form-text"}, help),
    el("div", {id: `${id}-error`, class: "invalid-feedback"}),
    el("div", {class: "mt-1"},
      el("label", {for: `${id}-file`, class: "form-label small"}, fileLabel), file))};
}

function installForm(domain, shown) {
  const cert = pemField("cert-pem", "Certificate (PEM)", "Certificate file",
    "The certificate, then its chain (intermediates), as -----BEGIN CERTIFICATE----- blocks.");
  const key = pemField("key-pem", "Private key (PEM)", "Private key file",
    "Its private key, not encrypted. It goes to the server only, which writes it readable by its owner only.");
  const general = el("div");
  const result = el("div", {"aria-live": "polite"});
  const install = el("button", {type: "submit", class: "btn btn-primary"}, "Install");
  const form = el("form", {novalidate: true}, cert.node, key.node, general, install);

  function clearErrors() {
    for (const id of Object.values(FIELDS)) {
      const area = document.getElementById(id);
      area.classList.remove("is-invalid");
      area.removeAttribute("aria-invalid");
      document.getElementById(`${id}-error`).textContent = "";
    }
    fill(general);
  }

  function showError(error) {
    const id = FIELDS[error.field];
    if (error instanceof ApiError && (error.status === 422 || error.status === 400) && id) {
      const area = document.getElementById(id);
      area.classList.add("is-invalid");
      area.setAttribute("aria-invalid", "true");
      document.getElementById(`${id}-error`).textContent = error.message;
      area.focus();
    } else {
      fill(general, alertBox("danger", error.message));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    install.disabled = true;
    fill(result, el("p", {class: "text-muted"}, "Checking and installing…"));
    try {
      const answer = await call("PUT", certificatesPath(domain),
        {certificate: cert.area.value, private_key: key.area.value});
      fill(result, alertBox("success",
        `Installed on ${answer.domain}: new TLS connections get this certificate now` +
        (answer.applied ? "." : " once the server reloads.") +
        (answer.kept ? ` The previous files are kept as ${answer.kept.certificate} and ` +
          `${answer.kept.private_key}.` : "")));
      showCertificates(shown, answer);
      for (const field of [cert, key]) {  // the key stays in the page no longer than needed
        field.area.value = "";
        field.file.value = "";
      }
    } catch (error) {
      fill(result);
      showError(error);
    } finally {
      install.disabled = false;
    }
  });
  return el("div", {}, el("h2", {class: "h5 mt-4"}, "Install a new certificate"), form, result);
}

export function render(container, context, parts) {
  const chooser = el("select", {id: "cert-domain", class: "form-select"});
  const shown = el("div", {id: "certificates"});
  const form = el("div");
  const message = el("div");
  fill(container,
    el("h1", {class: "h3"}, "Certificates"),
    el("div", {class: "row mb-3"}, el("div", {class: "col-sm-6 col-lg-4"},
      el("label", {for: "cert-domain", class: "form-label"}, "Domain"), chooser)),
    message, shown, form);
  let stopped = false;

  async function load(domain) {
    fill(shown, el("p", {class: "text-muted"}, "Loading…"));
    fill(form);
    try {
      const answer = await get(certificatesPath(domain));
      if (stopped || chooser.value !== domain) return;
      showCertificates(shown, answer);
      if (!context.roleAtLeast("admin")) {
        fill(form, alertBox("info", "Installing a certificate needs the role admin."));
      } else if (answer.certificates.length) {
        fill(form, installForm(domain, shown));
      }
    } catch (error) {
      if (!stopped) fill(shown, alertBox("danger", error.message));
    }
  }

  chooser.addEventListener("change", () => {
    history.replaceState(null, "", `#/certificates/${encodeURIComponent(chooser.value)}`);
    load(chooser.value);
  });

  get("/api/v1/domains").then((answer) => {
    if (stopped) return;
    const names = answer.domains.map((d) => d.name);
    fill(chooser, names.map((name) => el("option", {value: name}, name)));
    chooser.value = names.includes(parts[0]) ? parts[0] : names[0];
    load(chooser.value);
  }, (error) => {
    if (!stopped) fill(message, alertBox("danger", error.message));
  });
  return () => {
    stopped = true;
  };
}
