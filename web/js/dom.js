// Building the page without ever parsing HTML: every text (from the server or the user) goes in as a
// text node, so a user named <script>alert(1)</script> shows as exactly that.

// el("button", {class: "btn", type: "button", onclick: fn}, "Disconnect", otherNode, ...)
// Attributes are set with setAttribute; "on..." keys add event listeners; children that are not
// nodes become text nodes; null and undefined children are skipped.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replaces what `node` holds.
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

// A table: `columns` are header texts, `rows` arrays of cells (text or nodes).
export function table(caption, columns, rows, empty = "None.") {
  const body = el("tbody");
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", {colspan: columns.length, class: "text-muted"}, empty)));
  }
  for (const row of rows) body.append(el("tr", {}, row.map((cell) => el("td", {}, cell))));
  return el("table", {class: "table table-sm align-middle"},
    el("caption", {class: "caption-top"}, caption),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {scope: "col"}, c)))),
    body);
}

export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function rate(n) {
  return `${bytes(n)}/s`;
}

// A message in the page for screen readers and eyes: kind "success", "danger", "warning", "info".
export function alertBox(kind, ...children) {
  return el("div", {class: `alert alert-${kind}`, role: kind === "danger" ? "alert" : "status"}, ...children);
}
