// The ECG viewer: plain JavaScript on the gateway's REST API, no build step, no other host.
// The token lives in sessionStorage (this tab only, gone when it closes), never in a cookie.
"use strict";

const TOKEN_KEY = "ecg-viewer-token";
const PAGE = 50;
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

const state = { token: sessionStorage.getItem(TOKEN_KEY), me: null, stream: null, poll: null,
                cursor: null, open: null };

class Problem extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (response.status === 401 && state.token) {
    logout("Your session ended: log in again.");
  }
  if (!response.ok) {
    let title = response.statusText, detail = "";
    try { const problem = await response.json(); title = problem.title; detail = problem.detail || ""; }
    catch (error) { /* not problem+json: keep the status line */ }
    throw new Problem(response.status, title, detail);
  }
  return response;
}

function say(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

function cell(row, text, header = false) {
  const element = document.createElement(header ? "th" : "td");
  if (header) element.scope = "row";
  element.textContent = text;
  row.appendChild(element);
  return element;
}

function button(label, onClick, accessibleName) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  if (accessibleName) element.setAttribute("aria-label", accessibleName);
  element.addEventListener("click", onClick);
  return element;
}

function show(view) {
  for (const id of ["login-view", "ecgs-view", "ecg-view", "users-view"]) $(id).hidden = id !== view;
  const heading = $(view).querySelector("h2");
  if (heading && view !== "login-view") heading.focus();
}

// --- session ----------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  try {
    const response = await api("/auth/token", {
      method: "POST", json: { username: $("username").value, password: $("password").value } });
    state.token = (await response.json()).access_token;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $("password").value = "";
    await start();
  } catch (error) {
    say(error.message, true);
  }
}

function logout(message = "Logged out.") {
  stopLive();
  state.token = null;
  state.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("who").hidden = true;
  $("logout").hidden = true;
  show("login-view");
  $("username").focus();
  say(message);
}

async function start() {
  const me = await (await api("/users/me")).json();
  state.me = me;
  $("who").textContent = `${me.username} (${me.role})`;
  $("who").hidden = false;
  $("logout").hidden = false;
  say("");
  if (me.role === "admin") {
    show("users-view");
    await loadUsers();
  } else {
    show("ecgs-view");
    await loadEcgs(true);
    startLive();
  }
}

// --- ECG list, live ---------------------------------------------------------------------

function ecgRow(ecg) {
  const row = document.createElement("tr");
  row.dataset.id = ecg.id;
  cell(row, ecg.id, true);
  const status = cell(row, ecg.status);
  status.className = `state ${ecg.status}`;
  cell(row, new Date(ecg.date).toLocaleString());
  cell(row, ecg.lead_names.join(", "));
  const actions = cell(row, "");
  actions.appendChild(button("Open", () => openEcg(ecg.id), `Open ECG ${ecg.id}`));
  return row;
}

let listing = 0;

async function loadEcgs(fresh) {
  // Loads can overlap (an upload and a live event): only the newest one is shown, whole.
  const mine = ++listing;
  const body = $("ecg-table").querySelector("tbody");
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (!fresh && state.cursor) query.set("cursor", state.cursor);
  const page = await (await api(`/ecg/?${query}`)).json();
  if (mine !== listing) return;
  const rows = page.items.map(ecgRow);
  if (fresh) body.replaceChildren(...rows); else body.append(...rows);
  state.cursor = page.next_cursor;
  $("more-ecgs").hidden = !page.next_cursor;
}

function setStatus(id, status) {
  const row = $("ecg-table").querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  if (row) {
    const element = row.querySelector(".state");
    element.textContent = status;
    element.className = `state ${status}`;
  } else {
    // Uploaded elsewhere (the ecg command, another tab): list again to show it.
    loadEcgs(true).catch(() => {});
  }
  if (state.open === id && status !== "pending") showInsights(id);
}

function stopLive() {
  if (state.stream) { state.stream.abort(); state.stream = null; }
  if (state.poll) { clearInterval(state.poll); state.poll = null; }
}

function startLive() {
  stopLive();
  const controller = new AbortController();
  state.stream = controller;
  follow(controller).catch(() => {
    if (controller.signal.aborted) return;
    $("live").textContent = "Live updates unavailable: refreshing every 5 s.";
    state.poll = setInterval(() => loadEcgs(true).catch(() => {}), POLL_MS);
  });
}

async function follow(controller) {
  // Server-Sent Events read with fetch: EventSource cannot send the bearer token.
  const response = await api("/ecg/events", { signal: controller.signal,
                                               headers: { Accept: "text/event-stream" } });
  $("live").textContent = "Live: statuses update as results arrive.";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "", kind = "message", data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended");
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (kind === "status" && data.length) {
          const notice = JSON.parse(data.join("\n"));
          setStatus(notice.id, notice.status);
        } else if (kind === "resync") {
          await loadEcgs(true);
        }
        kind = "message"; data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") kind = text;
        else if (field === "data") data.push(text);
      }
    }
  }
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  try {
    const text = await file.text();
    const response = await api("/ecg/", { method: "POST", body: text,
                                          headers: { "Content-Type": "application/json" } });
    const accepted = await response.json();
    say(`Uploaded ${file.name}: ECG ${accepted.id} is ${accepted.status}.`);
    $("upload-form").reset();
    await loadEcgs(true);
  } catch (error) {
    say(`${file.name} was not accepted: ${error.message}`, true);
  }
}

// --- one ECG ----------------------------------------------------------------------------

async function openEcg(id) {
  state.open = id;
  $("ecg-title").textContent = `ECG ${id}`;
  show("ecg-view");
  await showInsights(id);
}

async function showPlot(id) {
  const response = await api(`/ecg/${encodeURIComponent(id)}/plot.svg`);
  const parsed = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  const svg = parsed.documentElement;
  if (svg.nodeName !== "svg") throw new Error("the plot could not be read");
  svg.setAttribute("aria-hidden", "true");
  $("plot").replaceChildren(document.importNode(svg, true));
}

function fixed(value, digits, unit) {
  return value === null || value === undefined ? "–" : `${value.toFixed(digits)} ${unit}`.trim();
}

function amplitude(adc, mv) {
  if (mv !== null && mv !== undefined) return `${mv.toFixed(2)} mV`;
  return adc === null || adc === undefined ? "–" : `${Math.round(adc)} ADC units`;
}

async function showInsights(id) {
  const result = await (await api(`/ecg/${encodeURIComponent(id)}/insights`)).json();
  await showPlot(id);
  const summary = $("summary-table").querySelector("tbody");
  const leads = $("leads-table").querySelector("tbody");
  summary.replaceChildren();
  leads.replaceChildren();
  $("notes").replaceChildren();
  const found = result.insights;
  $("insights-state").textContent = {
    pending: "Analysis pending: this page updates when it is done.",
    done: "Analysis done.",
    failed: `Analysis failed: ${result.error || ""}`,
  }[result.status];
  if (!found) return;
  const yesNo = (flag) => (flag === null || flag === undefined ? "–" : flag ? "yes" : "no");
  const rows = [
    ["Heart rate", fixed(found.heart_rate_bpm, 1, "bpm")],
    ["Heart rate, lowest – highest", found.heart_rate_min_bpm === null ? "–" :
      `${found.heart_rate_min_bpm.toFixed(0)} – ${found.heart_rate_max_bpm.toFixed(0)} bpm`],
    ["Regular rhythm", yesNo(found.rhythm_regular)],
    ["Bradycardia (< 60 bpm)", yesNo(found.bradycardia)],
    ["Tachycardia (> 100 bpm)", yesNo(found.tachycardia)],
    ["Mean RR interval", fixed(found.rr_mean_ms, 0, "ms")],
    ["SDNN", fixed(found.sdnn_ms, 1, "ms")],
    ["RMSSD", fixed(found.rmssd_ms, 1, "ms")],
    ["pNN50", fixed(found.pnn50_percent, 1, "%")],
    ["Beats detected", found.r_peaks ? String(found.r_peaks.length) : "–"],
    ["Unusable (no lead with trustworthy beats)", !found.unusable ? "–" :
      fixed(found.unusable.reduce((sum, s) => sum + s.end_s - s.start_s, 0), 1, "s")],
    ["Duration", fixed(found.duration_s, 1, "s")],
    ["Sampling rate", fixed(found.sampling_rate_hz, 0, "Hz")],
  ];
  for (const [name, value] of rows) {
    const row = document.createElement("tr");
    cell(row, name, true);
    cell(row, value);
    summary.appendChild(row);
  }
  for (const lead of found.leads) {
    const row = document.createElement("tr");
    cell(row, lead.name, true);
    cell(row, String(lead.number_of_samples));
    cell(row, String(lead.zero_crossings));
    cell(row, amplitude(lead.min, lead.min_mv));
    cell(row, amplitude(lead.max, lead.max_mv));
    cell(row, amplitude(lead.r_amplitude, lead.r_amplitude_mv));
    const flags = [["flat_line", "flat line"], ["clipping", "clipping"],
                   ["excessive_noise", "noisy"]].filter(([key]) => lead[key]).map(([, t]) => t);
    // Its silences where the other leads' beats went on: its R peaks there came from them.
    const lost = (lead.unreadable || []).reduce((sum, s) => sum + s.end_s - s.start_s, 0);
    if (lost > 0) flags.push(`no QRS for ${lost.toFixed(1)} s (other leads used)`);
    cell(row, flags.join(", ") || "ok");
    leads.appendChild(row);
  }
  for (const note of found.notes) {
    const item = document.createElement("li");
    item.textContent = note;
    $("notes").appendChild(item);
  }
}

// --- users (admin) ----------------------------------------------------------------------

async function loadUsers() {
  const body = $("user-table").querySelector("tbody");
  body.replaceChildren();
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "500" });
    if (cursor) query.set("cursor", cursor);
    const page = await (await api(`/users/?${query}`)).json();
    for (const user of page.items) {
      const row = document.createElement("tr");
      cell(row, user.username, true);
      cell(row, user.role);
      cell(row, user.disabled ? "disabled" : "active");
      const actions = cell(row, "");
      if (user.id !== state.me.id) {
        const label = user.disabled ? "Enable" : "Disable";
        actions.appendChild(button(label, () => setDisabled(user, !user.disabled),
                                   `${label} ${user.username}`));
      }
      body.appendChild(row);
    }
    cursor = page.next_cursor;
  } while (cursor);
}

async function setDisabled(user, disabled) {
  try {
    await api(`/users/${encodeURIComponent(user.id)}`, { method: "PATCH", json: { disabled } });
    say(`${user.username} is ${disabled ? "disabled" : "enabled"}.`);
    await loadUsers();
  } catch (error) {
    say(error.message, true);
  }
}

async function addUser(event) {
  event.preventDefault();
  const username = $("new-username").value;
  try {
    await api("/users/", { method: "POST", json: {
      username, password: $("new-password").value, role: $("new-role").value } });
    $("user-form").reset();
    say(`${username} was added.`);
    await loadUsers();
  } catch (error) {
    say(`${username} was not added: ${error.message}`, true);
  }
}

// --- wiring -----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout());
  $("upload-form").addEventListener("submit", upload);
  $("more-ecgs").addEventListener("click", () => loadEcgs(false).catch((e) => say(e.message, true)));
  $("back").addEventListener("click", () => { state.open = null; show("ecgs-view"); });
  $("user-form").addEventListener("submit", addUser);
  if (state.token) {
    start().catch(() => logout("Log in to continue."));
  } else {
    show("login-view");
  }
});
