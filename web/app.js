// The Manager's web console: sign-in, navigation (pages by the URL's #fragment) and the pages,
// each a module with render(container, context) returning a function that stops its refreshing.
import {call, get, setCsrf, whenSignedOut} from "./js/api.js";
import {alertBox, el, fill} from "./js/dom.js";
import * as dashboard from "./js/dashboard.js";
import * as sessions from "./js/sessions.js";
import * as users from "./js/users.js";
import * as bans from "./js/bans.js";
import * as domains from "./js/domains.js";
import * as audit from "./js/audit.js";
import * as certificates from "./js/certificates.js";
import * as revisions from "./js/revisions.js";
import * as logs from "./js/logs.js";
import * as nodes from "./js/nodes.js";

// A page is listed once the API serves the route it needs (the OpenAPI document lists every route).
const PAGES = [
  {hash: "#/dashboard", title: "Dashboard", needs: "/api/v1/status/history", module: dashboard},
  {hash: "#/sessions", title: "Sessions", needs: "/api/v1/sessions", module: sessions},
  {hash: "#/nodes", title: "Nodes", needs: "/api/v1/nodes", module: nodes},
  {hash: "#/users", title: "Users", needs: "/api/v1/domains/{domain}/users", module: users},
  {hash: "#/bans", title: "Bans", needs: "/api/v1/bans", module: bans},
  {hash: "#/domains", title: "Domains", needs: "/api/v1/domains/{domain}/passive", module: domains},
  {hash: "#/certificates", title: "Certificates", needs: "/api/v1/domains/{domain}/certificates",
    module: certificates},
  {hash: "#/revisions", title: "Revisions", needs: "/api/v1/config/revisions", module: revisions},
  {hash: "#/audit", title: "Audit", needs: "/api/v1/audit", module: audit},
  {hash: "#/logs", title: "Logs", needs: "/api/v1/logs/stream", module: logs},
];

const $ = (id) => document.getElementById(id);
const context = {who: null, routes: new Set()};
let stopPage = () => {};

function roleAtLeast(role) {
  const order = ["viewer", "operator", "admin"];
  return context.who && order.indexOf(context.who.role) >= order.indexOf(role);
}
context.roleAtLeast = roleAtLeast;

function available() {
  return PAGES.filter((p) => context.routes.has(p.needs));
}

function showSignIn(message) {
  stopPage();
  stopPage = () => {};
  context.who = null;
  setCsrf("");
  $("nav").hidden = true;
  $("who").hidden = true;
  fill($("page"));
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("signin-name").focus();
}

async function signedIn(who) {
  context.who = who;
  setCsrf(who.csrf);
  const doc = await get("/api/v1/openapi.json");
  context.routes = new Set(Object.keys(doc.paths));
  context.api = doc;
  $("signin").hidden = true;
  $("who-name").textContent = `${who.name} (${who.role})`;
  $("who").hidden = false;
  $("nav").hidden = false;
  fill($("nav-links"), available().map((p) =>
    el("li", {class: "nav-item"}, el("a", {class: "nav-link", href: p.hash}, p.title))));
  route();
}

function route() {
  if (!context.who) return;
  stopPage();
  const hash = location.hash || "#/dashboard";
  const pages = available();
  const page = pages.find((p) => hash === p.hash || hash.startsWith(`${p.hash}/`)) || pages[0];
  for (const link of $("nav-links").querySelectorAll("a")) {
    const current = link.getAttribute("href") === page.hash;
    link.classList.toggle("active", current);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const container = $("page");
  fill(container);
  const parts = hash.slice(page.hash.length).split("/").filter(Boolean).map(decodeURIComponent);
  try {
    stopPage = page.module.render(container, context, parts) || (() => {});
  } catch (error) {
    fill(container, alertBox("danger", String(error.message || error)));
    stopPage = () => {};
  }
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("signin-error").textContent = "";
  try {
    const who = await call("POST", "/api/v1/auth/session",
      {name: $("signin-name").value, password: $("signin-password").value});
    $("signin-password").value = "";
    await signedIn(who);
    $("main").focus();
  } catch (error) {
    $("signin-error").textContent = error.message;
  }
});

$("sign-out").addEventListener("click", async () => {
  try {
    await call("DELETE", "/api/v1/auth/session");
  } finally {
    showSignIn("Signed out.");
  }
});

whenSignedOut((message) => showSignIn(message));
window.addEventListener("hashchange", route);

get("/api/v1/auth/session").then(signedIn, () => showSignIn(""));
