// Users: a domain's users as its users file (or the cluster database) says now, and for admins: add, edit, disable or enable,
// reset the password, delete. Every change sends the ETag of the list it was made from as If-Match,
// so a change made meanwhile (by hand, or by another admin) is refused with 409, never overwritten;
// the list is read again after each change.
import {get, tagged} from "./api.js";
import {alertBox, el, fill, rate, table} from "./dom.js";
import {checkbox, errorPlaces, field} from "./form.js";

function yesNo(value) {
  return value ? "yes" : "no";
}

// The per-user settings that differ from the defaults, in a few words.
function overrides(u) {
  const parts = [];
  if (u.tls_required) parts.push(`TLS required: ${u.tls_required}`);
  if (u.tls_session_reuse) parts.push(`TLS reuse: ${u.tls_session_reuse}`);
  if (u.certificate_name) parts.push(`certificate: ${u.certificate_name}`);
  if (u.max_sessions !== null && u.max_sessions !== undefined) parts.push(`at most ${u.max_sessions} sessions`);
  if (u.download_rate) parts.push(`download ${rate(u.download_rate)}`);
  if (u.upload_rate) parts.push(`upload ${rate(u.upload_rate)}`);
  return parts.length ? parts.join(", ") : el("span", {class: "text-muted"}, "defaults");
}

// "default" first, then the others as the server lists them.
function domainNames(answer) {
  const names = answer.domains.map((d) => d.name);
  return [...names.filter((n) => n === "default"), ...names.filter((n) => n !== "default")];
}

export function render(container, context, parts) {
  const canChange = context.roleAtLeast("admin");
  const chooser = el("select", {id: "users-domain", class: "form-select"});
  const addButton = canChange
    ? el("button", {type: "button", class: "btn btn-primary", onclick: () => openForm(null)}, "Add user") : null;
  const result = el("div", {id: "users-result"});
  const editor = el("div", {id: "users-editor"});
  const list = el("div");
  fill(container,
    el("h1", {class: "h3"}, "Users"),
    canChange ? null : el("p", {class: "text-muted"}, "Changing users needs the role admin."),
    el("div", {class: "row g-2 align-items-end mb-3"},
      el("div", {class: "col-auto"}, el("label", {for: "users-domain", class: "form-label"}, "Domain"), chooser),
      el("div", {class: "col-auto"}, addButton)),
    result, editor, list);

  let domain = null;
  let users = [];
  let tag = null;  // the ETag of the list shown: every change sends it as If-Match
  let stopped = false;
  let opener = null;  // what opened the editor: the focus goes back there

  const usersPath = () => `/api/v1/domains/${encodeURIComponent(domain)}/users`;
  const userPath = (name) => `${usersPath()}/${encodeURIComponent(name)}`;

  function said(kind, text) {
    fill(result, alertBox(kind, text));
  }

  // The focus goes back to what opened the editor (the same row's button once the list is rebuilt).
  function refocus() {
    const back = opener;
    opener = null;
    if (back && back.dataset.user !== undefined) {
      const again = [...list.querySelectorAll("button")].find((b) => b.dataset.user === back.dataset.user
        && b.dataset.action === back.dataset.action);
      if (again) {
        again.focus();
        return;
      }
    } else if (back && document.contains(back)) {
      back.focus();
      return;
    }
    if (addButton) addButton.focus();
  }

  function closeEditor() {
    fill(editor);
    refocus();
  }

  function show() {
    const focused = document.activeElement;
    const keep = focused && focused.dataset && focused.dataset.user !== undefined
      ? [focused.dataset.user, focused.dataset.action] : null;
    const columns = ["Name", "Root", "Write access", "Enabled", "Overrides"];
    if (canChange) columns.push("Actions");
    fill(list, table(`Users of ${domain} (${users.length})`, columns, users.map((u) => {
      const row = [u.name, u.root, yesNo(u.write), yesNo(u.enabled), overrides(u)];
      if (canChange) row.push(actions(u));
      return row;
    }), "No user."));
    if (keep) {
      const again = [...list.querySelectorAll("button")].find((b) => b.dataset.user === keep[0]
        && b.dataset.action === keep[1]);
      if (again) again.focus();
    }
  }

  async function load() {
    const asked = domain;
    try {
      const {answer, tag: version} = await tagged("GET", usersPath());
      if (stopped || asked !== domain) return;
      users = answer.users;
      tag = version;
      show();
    } catch (error) {
      if (stopped || asked !== domain) return;
      users = [];
      tag = null;
      fill(list, alertBox("danger", error.message));
    }
  }

  // One change: `places` shows a refusal (at its field, else in its general place). On success the
  // editor closes, the result line says `done(answer)` and the list is read again; a 409 (the file
  // changed since it was read, or the name exists) reads the list again too.
  async function change(method, path, body, places, done) {
    try {
      const {answer} = await tagged(method, path, body, tag);
      places.clear();
      const warning = answer.applied === false && answer.warning ? ` ${answer.warning}` : "";
      fill(editor);
      said(warning ? "warning" : "success", `${done(answer)}${warning}`);
      await load();
      refocus();
    } catch (error) {
      places.show(error);
      if (error.status === 409) await load();
    }
  }

  function button(text, action, user, onclick, kind = "btn-outline-secondary") {
    return el("button", {type: "button", class: `btn ${kind}`, "data-user": user.name, "data-action": action,
      onclick: (event) => {
        opener = event.currentTarget;
        onclick();
      }}, text);
  }

  function actions(u) {
    return el("div", {class: "btn-group btn-group-sm", role: "group", "aria-label": `User ${u.name}`},
      button("Edit", "edit", u, () => openForm(u)),
      button(u.enabled ? "Disable" : "Enable", "toggle", u, () => toggle(u)),
      button("Reset password", "password", u, () => openReset(u)),
      button("Delete", "delete", u, () => openDelete(u), "btn-outline-danger"));
  }

  function toggle(u) {
    const places = errorPlaces({}, result);
    fill(result);
    change("PUT", userPath(u.name), {enabled: !u.enabled}, places, () => (u.enabled
      ? `User ${u.name} disabled: it cannot log in, and its sessions ended.`
      : `User ${u.name} enabled: it can log in again.`));
  }

  function panel(title, ...children) {
    return el("section", {class: "card mb-3", "aria-label": title},
      el("div", {class: "card-body"}, el("h2", {class: "h5 card-title"}, title), ...children));
  }

  function cancelButton() {
    return el("button", {type: "button", class: "btn btn-outline-secondary", onclick: closeEditor}, "Cancel");
  }

  // Add (user null) or edit: name, password, root, write access, enabled.
  function openForm(user) {
    if (user === null) opener = addButton;
    const editing = user !== null;
    const name = el("input", {id: "user-name", name: "name", class: "form-control", autocomplete: "off",
      readonly: editing});
    const password = el("input", {id: "user-password", name: "password", type: "password", class: "form-control",
      autocomplete: "new-password"});
    const root = el("input", {id: "user-root", name: "root", class: "form-control", autocomplete: "off"});
    const write = el("input", {id: "user-write", name: "write", type: "checkbox"});
    const enabled = el("input", {id: "user-enabled", name: "enabled", type: "checkbox"});
    const general = el("div");
    name.value = editing ? user.name : "";
    root.value = editing ? user.root : "";
    write.checked = editing ? user.write : false;
    enabled.checked = editing ? user.enabled : true;
    const places = errorPlaces({name, password, root, write, enabled}, general);
    const form = el("form", {novalidate: true},
      field("User name", name, editing ? "A user's name cannot change: add a new user and delete this one."
        : "1 to 128 letters, digits or _ - . @"),
      field("Password", password, editing ? "Empty: the password stays as it is."
        : "Stored hashed, never shown again."),
      field("Root folder", root, "The folder the user sees as /. A relative path is relative to the users " +
        "file's folder (in a cluster, give an absolute path)."),
      checkbox("Write access", write, "Upload, delete, rename and make folders."),
      checkbox("Enabled", enabled, "A disabled user cannot log in."),
      general,
      el("div", {class: "d-flex gap-2"},
        el("button", {type: "submit", class: "btn btn-primary"}, editing ? "Save changes" : "Save user"),
        cancelButton()));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!editing) {
        const body = {name: name.value.trim(), password: password.value, root: root.value.trim(), write: write.checked};
        if (!enabled.checked) body.enabled = false;
        change("POST", usersPath(), body, places, (a) => `User ${a.user.name} added to ${domain}: it can log in now.`);
        return;
      }
      // Only what changed: a PUT changes the fields it is given.
      const body = {};
      if (root.value.trim() !== user.root) body.root = root.value.trim();
      if (write.checked !== user.write) body.write = write.checked;
      if (enabled.checked !== user.enabled) body.enabled = enabled.checked;
      if (password.value !== "") body.password = password.value;
      if (Object.keys(body).length === 0) {
        places.clear();
        fill(general, alertBox("info", "Nothing changed."));
        return;
      }
      change("PUT", userPath(user.name), body, places, () => `User ${user.name} changed.`);
    });
    fill(result);
    fill(editor, panel(editing ? `Edit user ${user.name}` : `Add a user to ${domain}`, form));
    (editing ? password : name).focus();
  }

  function openReset(user) {
    const password = el("input", {id: "reset-password", name: "password", type: "password", class: "form-control",
      autocomplete: "new-password"});
    const general = el("div");
    const places = errorPlaces({password}, general);
    const form = el("form", {novalidate: true},
      field("New password", password, "The next login needs it; running sessions go on."),
      general,
      el("div", {class: "d-flex gap-2"},
        el("button", {type: "submit", class: "btn btn-primary"}, "Set password"), cancelButton()));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {password: password.value};
      password.value = "";  // shown nowhere, kept nowhere, whatever the answer
      change("PUT", userPath(user.name), body, places, () => `Password of ${user.name} changed.`);
    });
    fill(result);
    fill(editor, panel(`Reset the password of ${user.name}`, form));
    password.focus();
  }

  function openDelete(user) {
    const general = el("div");
    const places = errorPlaces({}, general);
    const confirm = el("button", {type: "button", class: "btn btn-danger"}, `Delete ${user.name}`);
    confirm.addEventListener("click", () => {
      change("DELETE", userPath(user.name), undefined, places, () => `User ${user.name} deleted.`);
    });
    fill(result);
    fill(editor, panel(`Delete user ${user.name}`,
      el("p", {}, `${user.name} will no longer log in to ${domain}, and its running sessions end at once. ` +
        "Its files stay."),
      general,
      el("div", {class: "d-flex gap-2"}, confirm, cancelButton())));
    confirm.focus();
  }

  chooser.addEventListener("change", () => {
    domain = chooser.value;
    history.replaceState(null, "", `#/users/${encodeURIComponent(domain)}`);
    fill(editor);
    fill(result);
    load();
  });

  get("/api/v1/domains").then((answer) => {
    if (stopped) return;
    const names = domainNames(answer);
    fill(chooser, names.map((n) => el("option", {value: n}, n)));
    domain = names.includes(parts[0]) ? parts[0] : names[0];
    chooser.value = domain;
    load();
  }, (error) => fill(list, alertBox("danger", error.message)));

  return () => {
    stopped = true;
  };
}
