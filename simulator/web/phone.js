// The web phone: one virtual phone texting the gateway's short number, driven through the
// simulator's control API (/api/*, simulator/control.py) and kept live by its Server-Sent
// Events (/api/events). Plain modern JS, no build step, nothing from the net. Every text
// from the wire reaches the page through textContent, never as HTML.

const NEW_NUMBER = "__new__";
const SENT_KEY = "smsgw-webphone-sent"; // sessionStorage: what this tab texted, per phone
const LINK_LOG_SIZE = 6;

// Quick toggles: a checkbox each, switching a few fault settings on or off together
// (PATCH: the other faults stay as they are).
const QUICK_FAULTS = [
  { id: "throttle", label: "Throttle every submit (ESME_RTHROTTLED)",
    on: { throttle_share: 1 }, off: { throttle_share: 0 } },
  { id: "queue-full", label: "Queue full on every submit (ESME_RMSGQFUL)",
    on: { queue_full_share: 1 }, off: { queue_full_share: 0 } },
  { id: "drop", label: "Drop the link at the next submit",
    on: { drop_on_submit_count: 1 }, off: { drop_on_submit_count: 0 } },
  { id: "slow", label: "Answer submits 2 s late",
    on: { submit_delay_ms: 2000 }, off: { submit_delay_ms: 0 } },
  { id: "no-response", label: "Never answer the next submit",
    on: { no_response_count: 1 }, off: { no_response_count: 0 } },
  { id: "refuse-binds", label: "Refuse the next 5 binds",
    on: { refuse_binds: 5 }, off: { refuse_binds: 0 } },
  { id: "duplicates", label: "Deliver every MO twice",
    on: { mo_duplicates: 1 }, off: { mo_duplicates: 0 } },
  { id: "parts", label: "Send each MO as 3 parts, shuffled",
    on: { mo_parts: 3, mo_parts_order: "shuffled" },
    off: { mo_parts: 0, mo_parts_order: "in_order" } },
  { id: "receipts", label: "Send delivery receipts",
    on: { receipts: true }, off: { receipts: false } },
];

const $ = (id) => document.getElementById(id);

const model = {
  shortNumber: "",
  operators: [],
  phones: new Map(), // msisdn → phone as the control API shows it
  charges: new Map(), // charge id → charge, in the order first seen
  links: [],
  linkLog: [], // the latest bind changes, newest first
  faults: {},
  current: "", // the msisdn on screen
  inbox: [], // the current phone's inbox as the simulator has it
  inboxRequest: 0, // only the newest inbox fetch may paint the screen
  unread: new Map(), // msisdn → texts that arrived while another phone was on screen
};

// --- talking to the control API -----------------------------------------------------------

class ApiError extends Error {}

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    const detail = (data && (data.message || data.error)) || response.statusText;
    throw new ApiError(detail);
  }
  return data;
}

const phonePath = (msisdn) => `/api/phones/${encodeURIComponent(msisdn)}`;

function say(element, message, kind = "info") {
  element.textContent = message;
  element.dataset.kind = kind;
}

function report(error) {
  say($("send-status"), String((error && error.message) || error), "error");
}

// --- what was texted (the simulator's inbox holds only what phones receive) ---------------
// Each text is placed after the inbox entries the phone had when it was sent.

function sentLog() {
  try {
    return JSON.parse(sessionStorage.getItem(SENT_KEY) || "{}");
  } catch {
    return {};
  }
}

function saveSentLog(log) {
  try {
    sessionStorage.setItem(SENT_KEY, JSON.stringify(log));
  } catch {
    // storage full or off: the texts still show until the page reloads
  }
}

function sentBy(msisdn) {
  return sentLog()[msisdn] || [];
}

function recordSent(msisdn, text, afterInbox, mine) {
  const log = sentLog();
  const entries = (log[msisdn] ||= []);
  entries.push({ text, afterInbox, awaitingEcho: mine, failed: false });
  saveSentLog(log);
  return entries.length - 1;
}

function markNotSent(msisdn, index) {
  const log = sentLog();
  const entry = (log[msisdn] || [])[index];
  if (!entry) return;
  entry.awaitingEcho = false; // no "mo" event will come for it
  entry.failed = true;
  saveSentLog(log);
}

// An "mo" event echoes every text a phone sent: ours (already shown) or someone else's
// (a scenario, the CLI, another tab), which is shown now.
function echoSent(msisdn, text) {
  const log = sentLog();
  const mine = (log[msisdn] || []).find((entry) => entry.awaitingEcho && entry.text === text);
  if (mine) {
    mine.awaitingEcho = false;
    saveSentLog(log);
    return false;
  }
  return true;
}

// --- phones, operators, links ---------------------------------------------------------------

async function loadState() {
  const state = await api("GET", "/api/state");
  model.shortNumber = state.short_number;
  model.operators = state.operators || [];
  model.phones = new Map((state.phones || []).map((phone) => [phone.msisdn, phone]));
  model.links = state.links || [];
  $("compose-label").textContent = `Text to ${model.shortNumber}`;
  renderOperators();
  renderPhoneChoices();
  renderDevice();
  renderLinks();
  renderFaults(state.faults || {});
}

function upsertPhone(phone) {
  model.phones.set(phone.msisdn, phone);
  renderPhoneChoices();
  if (phone.msisdn === model.current) renderDevice();
}

async function refreshPhone(msisdn) {
  upsertPhone(await api("GET", phonePath(msisdn)));
}

function renderOperators() {
  for (const select of [$("new-operator"), $("faults-operator"), $("drop-operator")]) {
    const chosen = select.value;
    const options = model.operators.map((operator) => new Option(operator, operator));
    if (select.id !== "new-operator") options.unshift(new Option("all operators", ""));
    select.replaceChildren(...options);
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  }
  $("faults-operator").value = model.faults.operator || "";
}

function phoneLabel(phone) {
  const unread = model.unread.get(phone.msisdn) || 0;
  const badge = unread ? ` — ${unread} new` : "";
  return `${phone.msisdn} (${phone.operator}, ${phone.policy})${badge}`;
}

function renderPhoneChoices() {
  const select = $("phone-select");
  if (select.value === NEW_NUMBER && !$("new-phone-form").hidden) return; // being filled in
  const options = [...model.phones.values()]
    .sort((a, b) => a.msisdn.localeCompare(b.msisdn))
    .map((phone) => new Option(phoneLabel(phone), phone.msisdn));
  if (!model.current) options.unshift(new Option("— choose a phone —", ""));
  options.push(new Option("New number…", NEW_NUMBER));
  select.replaceChildren(...options);
  select.value = model.current;
}

function money(minor, currency) {
  if (typeof minor !== "number") return "";
  const sign = minor < 0 ? "-" : "";
  const units = Math.abs(minor);
  const cents = String(units % 100).padStart(2, "0");
  return `${sign}${Math.floor(units / 100)}.${cents} ${currency || ""}`.trim();
}

function renderDevice() {
  const phone = model.phones.get(model.current);
  $("device-number").textContent = phone ? phone.msisdn : "no phone";
  $("device-meta").textContent = phone
    ? `${phone.operator} · ${money(phone.balance_minor, phone.currency)}`
    : "choose a phone above";
  for (const id of ["compose-text", "send-button"]) $(id).disabled = !phone;
  for (const element of $("policy-form").elements) element.disabled = !phone;
  if (phone) {
    $("policy-select").value = phone.policy;
    $("policy-delay").value = String(phone.answer_delay ?? 0);
  }
  renderAnswerButtons();
}

function renderLinks() {
  const rows = model.links.map((link) =>
    row([link.system_id, link.operator || "?", badge(link.bind, "good")]),
  );
  $("links-body").replaceChildren(...(rows.length ? rows : [emptyRow(3, "No gateway bound.")]));
  const log = model.linkLog.map((change) => {
    const item = document.createElement("li");
    const status = change.state === "refused" ? ` (${change.status_name})` : "";
    item.append(
      badge(change.state, change.state === "bound" ? "good" : "bad"),
      ` ${change.system_id} ${change.bind}${status} · ${change.seen}`,
    );
    return item;
  });
  $("link-log").replaceChildren(...log);
}

function onLinkEvent(change) {
  const status = typeof change.status === "number" ? hexStatus(change.status) : "";
  model.linkLog.unshift({ ...change, status_name: status, seen: clockTime(new Date()) });
  model.linkLog.length = Math.min(model.linkLog.length, LINK_LOG_SIZE);
  scheduleStateRefresh(); // the bound links come from the state
  renderLinks();
}

let stateRefresh = null;
function scheduleStateRefresh() {
  if (stateRefresh !== null) return;
  stateRefresh = setTimeout(() => {
    stateRefresh = null;
    loadState().catch(report);
  }, 50);
}

// --- the screen --------------------------------------------------------------------------

function isFromGateway(message) {
  return message.sender === model.shortNumber;
}

function clockTime(when) {
  // in the simulated clock's zone once it is known: the times the replies name are there
  const zone = clock.readAt ? { timeZone: clock.zone } : {};
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23", ...zone });
}

function timeOf(at) {
  if (!at) return "";
  const when = new Date(at);
  return Number.isNaN(when.getTime()) ? String(at) : clockTime(when);
}

function bubble(kind, from, text, at) {
  const item = document.createElement("li");
  item.className = `message ${kind}`;
  const head = document.createElement("span");
  head.className = "from";
  head.textContent = [from, timeOf(at)].filter(Boolean).join(" · ");
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(head, body);
  return item;
}

// The screen is a live region: only new bubbles are appended, so a screen reader reads
// each arriving text once rather than the whole conversation again.
function screenItems() {
  const sent = sentBy(model.current);
  const items = [];
  const mine = (entry, n) => ({
    key: `out:${n}:${entry.failed ? "failed" : "sent"}`,
    make: () => entry.failed
      ? bubble("outgoing failed", `me → ${model.shortNumber} · not sent`, entry.text)
      : bubble("outgoing", `me → ${model.shortNumber}`, entry.text),
  });
  const sentAfter = (count) =>
    sent.map((entry, n) => [entry, n]).filter(([entry]) => entry.afterInbox === count);
  for (let index = 0; index <= model.inbox.length; index += 1) {
    items.push(...sentAfter(index).map(([entry, n]) => mine(entry, n)));
    const message = model.inbox[index];
    if (message) {
      const kind = isFromGateway(message) ? "incoming gateway" : "incoming operator";
      items.push({
        key: `in:${index}`,
        make: () => bubble(kind, message.sender, message.text, message.at),
      });
    }
  }
  // sent after entries this page has not fetched yet
  sent.forEach((entry, n) => {
    if (entry.afterInbox > model.inbox.length) items.push(mine(entry, n));
  });
  return items;
}

let shownKeys = [];
let shownPhone = "";

function renderScreen() {
  const screen = $("screen");
  const items = screenItems();
  const keys = items.map((item) => item.key);
  const extendsShown = shownPhone === model.current &&
    shownKeys.every((key, index) => keys[index] === key);
  if (extendsShown) {
    screen.append(...items.slice(shownKeys.length).map((item) => item.make()));
  } else {
    screen.replaceChildren(...items.map((item) => item.make()));
  }
  shownKeys = keys;
  shownPhone = model.current;
  screen.scrollTop = screen.scrollHeight;
}

function pendingCharges(msisdn) {
  return [...model.charges.values()].filter(
    (charge) => charge.msisdn === msisdn && charge.status === "pending",
  );
}

function renderAnswerButtons() {
  const phone = model.phones.get(model.current);
  const waiting = phone !== undefined && phone.policy === "ignore" &&
    pendingCharges(phone.msisdn).length > 0;
  const panel = $("answer");
  if (!waiting && panel.contains(document.activeElement)) $("compose-text").focus();
  panel.hidden = !waiting;
  if (waiting) {
    const [oldest] = pendingCharges(phone.msisdn);
    $("answer-label").textContent =
      `${oldest.operator} asks to confirm a debit of ${money(oldest.amount_minor, oldest.currency)}:`;
  }
}

async function refreshInbox() {
  const msisdn = model.current;
  const request = ++model.inboxRequest;
  const inbox = msisdn ? await api("GET", `${phonePath(msisdn)}/inbox`) : [];
  if (request !== model.inboxRequest) return; // a newer fetch is under way
  model.inbox = inbox || [];
  renderScreen();
}

async function choosePhone(msisdn) {
  model.current = msisdn;
  model.inbox = [];
  model.unread.delete(msisdn);
  renderPhoneChoices();
  renderDevice();
  renderScreen();
  say($("send-status"), "");
  await refreshInbox();
}

// --- actions -------------------------------------------------------------------------------

function hexStatus(status) {
  return `0x${status.toString(16).toUpperCase().padStart(8, "0")}`;
}

async function sendText(event) {
  event.preventDefault();
  const input = $("compose-text");
  const text = input.value.trim();
  const msisdn = model.current;
  if (!msisdn || !text) return;
  const index = recordSent(msisdn, text, model.inbox.length, true);
  renderScreen();
  input.value = "";
  say($("send-status"), "Sending…");
  try {
    const result = await api("POST", `${phonePath(msisdn)}/texts`, { text });
    const name = result.status_name || hexStatus(result.status);
    if (result.status === 0) say($("send-status"), `Delivered to the gateway (deliver_sm ${name}).`);
    else say($("send-status"), `The gateway answered deliver_sm with ${name}.`, "error");
  } catch (error) {
    markNotSent(msisdn, index);
    if (msisdn === model.current) renderScreen();
    say($("send-status"), `Not sent: ${error.message}`, "error");
  }
}

async function answer(reply) {
  const msisdn = model.current;
  try {
    const charge = await api("POST", `${phonePath(msisdn)}/answer`, { reply });
    upsertCharge(charge);
    say($("send-status"), reply === "1" ? "Answered 1: debit confirmed." : "Answered 0: declined.");
  } catch (error) {
    say($("send-status"), `Answer not taken: ${error.message}`, "error");
  }
}

async function addPhone(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!form.reportValidity()) return;
  const body = {
    msisdn: $("new-msisdn").value.trim(),
    operator: $("new-operator").value,
    policy: $("new-policy").value,
  };
  const units = $("new-balance").value;
  if (units !== "") body.balance_minor = Math.round(Number(units) * 100);
  try {
    const phone = await api("POST", "/api/phones", body);
    form.hidden = true;
    model.phones.set(phone.msisdn, phone);
    await choosePhone(phone.msisdn);
    $("compose-text").focus();
  } catch (error) {
    say($("new-phone-status"), `Phone not added: ${error.message}`, "error");
  }
}

async function setPolicy(event) {
  event.preventDefault();
  const msisdn = model.current;
  if (!msisdn) return;
  const body = { policy: $("policy-select").value, delay: Number($("policy-delay").value || 0) };
  try {
    upsertPhone(await api("PUT", `${phonePath(msisdn)}/policy`, body));
    say($("send-status"), `Policy now: ${body.policy}, answering after ${body.delay} s.`);
  } catch (error) {
    say($("send-status"), `Policy not changed: ${error.message}`, "error");
  }
}

// --- charges -------------------------------------------------------------------------------

function statusKind(status) {
  if (status === "confirmed") return "good";
  if (status === "pending") return "wait";
  return "bad";
}

function upsertCharge(charge) {
  model.charges.set(charge.id, charge);
  renderCharges();
  renderAnswerButtons();
}

async function loadCharges() {
  const charges = (await api("GET", "/api/charges")) || [];
  model.charges = new Map(charges.map((charge) => [charge.id, charge]));
  renderCharges();
  renderAnswerButtons();
}

function renderCharges() {
  const rows = [...model.charges.values()].reverse().map((charge) => {
    const status = [badge(charge.status, statusKind(charge.status))];
    if (charge.reason) status.push(` ${charge.reason}`);
    const cell = document.createElement("span");
    cell.append(...status);
    return row([
      charge.operator,
      charge.msisdn,
      money(charge.amount_minor, charge.currency),
      cell,
      charge.reference || "",
    ]);
  });
  $("charges-body").replaceChildren(...(rows.length ? rows : [emptyRow(5, "No charges yet.")]));
}

function onChargeEvent(charge) {
  upsertCharge(charge);
  // a decided charge moves the phone's balance
  if (charge.status !== "pending" && model.phones.has(charge.msisdn)) {
    refreshPhone(charge.msisdn).catch(report);
  }
}

// --- faults --------------------------------------------------------------------------------

function quickFaultIsOn(toggle) {
  return Object.entries(toggle.on).every(([key, value]) => model.faults[key] === value);
}

function renderFaults(faults) {
  model.faults = faults;
  const toggles = QUICK_FAULTS.filter((toggle) => Object.keys(toggle.on).every((k) => k in faults));
  $("faults-fields").replaceChildren(
    ...toggles.map((toggle) => {
      const label = document.createElement("label");
      label.className = "toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `fault-${toggle.id}`;
      box.checked = quickFaultIsOn(toggle);
      box.addEventListener("change", () => patchFaults(box.checked ? toggle.on : toggle.off));
      label.append(box, toggle.label);
      return label;
    }),
  );
  $("faults-operator").value = faults.operator || "";
  renderFaultSettings(faults);
}

function renderFaultSettings(faults) {
  $("fault-settings").replaceChildren(
    ...Object.entries(faults).map(([key, value]) => {
      const field = document.createElement("div");
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.id = `fault-field-${key}`;
      input.name = key;
      label.htmlFor = input.id;
      label.textContent = key.replaceAll("_", " ");
      if (typeof value === "boolean") {
        input.type = "checkbox";
        input.checked = value;
        field.className = "toggle";
        field.append(input, label);
        return field;
      }
      input.type = typeof value === "number" ? "number" : "text";
      if (input.type === "number") input.step = "any";
      input.value = value === null || value === undefined ? "" : String(value);
      input.dataset.kind = value === null ? "nullable" : typeof value;
      field.append(label, input);
      return field;
    }),
  );
}

function faultSettingsFromForm() {
  const settings = {};
  for (const input of $("fault-settings").querySelectorAll("input")) {
    const text = input.value.trim();
    if (input.type === "checkbox") settings[input.name] = input.checked;
    else if (input.dataset.kind === "number") settings[input.name] = Number(text || 0);
    else if (input.dataset.kind === "nullable" && /^-?\d+(\.\d+)?$/.test(text)) {
      settings[input.name] = Number(text);
    } else settings[input.name] = text === "" ? null : text;
  }
  return settings;
}

async function changeFaults(method, body, done) {
  try {
    renderFaults(await api(method, "/api/faults", body));
    say($("faults-status"), done);
  } catch (error) {
    say($("faults-status"), `Faults unchanged: ${error.message}`, "error");
    renderFaults(model.faults);
  }
}

const patchFaults = (changes) => changeFaults("PATCH", changes, "Faults changed.");

async function dropLinks() {
  const operator = $("drop-operator").value;
  try {
    const result = await api("POST", "/api/links/drop", operator ? { operator } : {});
    say($("faults-status"), `Dropped ${result.dropped} link(s); the gateway should reconnect.`);
  } catch (error) {
    say($("faults-status"), `Links not dropped: ${error.message}`, "error");
  }
}

// --- small DOM helpers ------------------------------------------------------------------

function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.append(cell);
    tr.append(td);
  }
  return tr;
}

function emptyRow(span, text) {
  const tr = document.createElement("tr");
  const td = document.createElement("td");
  td.colSpan = span;
  td.className = "empty";
  td.textContent = text;
  tr.append(td);
  return tr;
}

// --- live events ---------------------------------------------------------------------------

function onSms(sms) {
  if (sms.msisdn === model.current) {
    refreshInbox().catch(report);
    return;
  }
  model.unread.set(sms.msisdn, (model.unread.get(sms.msisdn) || 0) + 1);
  renderPhoneChoices();
}

function onMo(mo) {
  if (!echoSent(mo.msisdn, mo.text)) return;
  if (mo.msisdn === model.current) {
    recordSent(mo.msisdn, mo.text, model.inbox.length, false);
    renderScreen();
  }
}

const HANDLERS = {
  sms: onSms,
  mo: onMo,
  charge: onChargeEvent,
  link: onLinkEvent,
  phone: upsertPhone,
  faults: (event) => renderFaults(event.faults),
};

function dispatch(type, data) {
  const handler = HANDLERS[type];
  if (handler) handler(data);
}

function listen() {
  const connection = $("connection");
  const events = new EventSource("/api/events");
  let wasDown = false;
  events.addEventListener("open", () => {
    connection.textContent = "live";
    connection.dataset.state = "live";
    // whatever happened while the stream was down, read it afresh
    if (wasDown) Promise.all([loadState(), loadCharges(), refreshInbox()]).catch(report);
    wasDown = false;
  });
  events.addEventListener("error", () => {
    connection.textContent = "reconnecting…";
    connection.dataset.state = "down";
    wasDown = true;
  });
  // the stream's messages are unnamed, each a JSON object with its "type"
  events.addEventListener("message", (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    try {
      dispatch(data.type, data);
    } catch (error) {
      report(error);
    }
  });
}

// --- start -------------------------------------------------------------------------------

function wire() {
  $("phone-select").addEventListener("change", (event) => {
    const value = event.target.value;
    if (value === NEW_NUMBER) {
      $("new-phone-form").hidden = false;
      say($("new-phone-status"), "");
      $("new-msisdn").focus();
      return;
    }
    $("new-phone-form").hidden = true;
    choosePhone(value).catch(report);
  });
  $("pick-form").addEventListener("submit", (event) => event.preventDefault());
  $("new-phone-form").addEventListener("submit", addPhone);
  $("new-cancel").addEventListener("click", () => {
    $("new-phone-form").hidden = true;
    renderPhoneChoices();
    $("phone-select").focus();
  });
  $("compose-form").addEventListener("submit", sendText);
  $("answer-yes").addEventListener("click", () => answer("1"));
  $("answer-no").addEventListener("click", () => answer("0"));
  $("policy-form").addEventListener("submit", setPolicy);
  $("faults-operator").addEventListener("change", (event) =>
    patchFaults({ operator: event.target.value || null }),
  );
  $("faults-form").addEventListener("submit", (event) => {
    event.preventDefault();
    changeFaults("PUT", faultSettingsFromForm(), "Fault settings applied.");
  });
  $("faults-clear").addEventListener("click", () =>
    changeFaults("DELETE", undefined, "All faults cleared."),
  );
  $("drop-form").addEventListener("submit", (event) => {
    event.preventDefault();
    dropLinks();
  });
}

// --- the simulated clock ------------------------------------------------------------------
// The demo may run on simulated time (`smsgw demo --clock … --speed …`). GET /clock says
// where it stood when asked and how fast it runs; the page runs it on between reads.

const CLOCK_RESYNC_MS = 30000;
const clock = { at: 0, readAt: 0, speed: 1, zone: "UTC" };

async function readClock() {
  try {
    const response = await fetch("/clock", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const body = await response.json();
    clock.at = Date.parse(body.now);
    clock.readAt = Date.now();
    clock.speed = Number(body.speed) || 1;
    clock.zone = body.time_zone || "UTC";
    paintClock();
  } catch (error) {
    // the clock is a convenience: the phone works without it
  }
}

function simulatedNow() {
  return new Date(clock.at + (Date.now() - clock.readAt) * clock.speed);
}

function paintClock() {
  if (!clock.readAt) return;
  const now = simulatedNow();
  const shown = new Intl.DateTimeFormat("en-GB", {
    timeZone: clock.zone, weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit",
  }).format(now);
  $("sim-clock-time").dateTime = now.toISOString();
  $("sim-clock-time").textContent = shown;
  $("sim-clock-zone").textContent = clock.speed === 1 ? clock.zone : `${clock.zone} · ×${clock.speed}`;
}

async function start() {
  wire();
  listen();
  readClock();
  setInterval(paintClock, 1000);
  setInterval(readClock, CLOCK_RESYNC_MS);
  try {
    await Promise.all([loadState(), loadCharges()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    report(error);
  }
}

start();
