// The support page: looks up a phone (sessions, parking account, history) or a plate
// (paid where, until when) through the operations API. The token stays in this tab's
// sessionStorage and goes out only as a Bearer header to this origin. Everything shown
// is set with textContent: reply texts and plates are data, never markup.
"use strict";

const TOKEN_KEY = "smsgw.ops.token";
const HISTORY_PAGE = 50;

const $ = (id) => document.getElementById(id);
let historyMsisdn = null;
let historyBefore = null;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function showTokenState() {
  $("token-state").textContent = token() ? "token set for this tab" : "no token";
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path) {
  if (!token()) {
    throw new Error("Enter the API token first.");
  }
  const response = await fetch(path, {
    headers: { Authorization: "Bearer " + token(), Accept: "application/json" },
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_ignored) {
    body = null;
  }
  if (response.status === 401) {
    throw new Error("The token was refused (401). Check http.api_token.");
  }
  if (!response.ok) {
    const detail = body && body.message ? body.message : response.statusText;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function money(amount) {
  if (!amount) return "";
  const sign = amount.minor < 0 ? "-" : "";
  const minor = Math.abs(amount.minor);
  const whole = Math.floor(minor / 100);
  const cents = String(minor % 100).padStart(2, "0");
  return `${sign}${whole}.${cents} ${amount.currency}`;
}

function when(text) {
  // "2026-11-23T19:30:00+03:00" → "2026-11-23 19:30:00 +03:00": local time as sent
  if (!text) return "";
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(.*)$/.exec(text);
  return match ? `${match[1]} ${match[2]} ${match[3]}` : text;
}

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell === null || cell === undefined ? "" : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function details(item) {
  switch (item.type) {
    case "session":
      return `zone ${item.zone}, ${item.plate}, ${when(item.start)} – ${when(item.end)}`;
    case "charge":
      return `${item.operator}, ${item.purpose}`;
    case "reply":
      return item.text;
    default:
      return [item.kind, item.zone ? `zone ${item.zone}` : "", item.operator || ""]
        .filter(Boolean).join(", ");
  }
}

function historyRow(item) {
  const amount = item.type === "session" ? item.prepaid : item.amount;
  const tr = row([when(item.at), item.type, money(amount), details(item), item.state || ""]);
  tr.dataset.type = item.type;
  return tr;
}

async function loadHistory(reset) {
  const tbody = $("history").tBodies[0];
  if (reset) {
    tbody.replaceChildren();
    historyBefore = null;
  }
  const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (historyBefore) query.set("before", historyBefore);
  const page = await api(`/v1/phones/${encodeURIComponent(historyMsisdn)}/history?${query}`);
  for (const item of page.items) tbody.appendChild(historyRow(item));
  historyBefore = page.next_before;
  $("history-more").hidden = !historyBefore;
}

async function lookUpPhone(msisdn) {
  const overview = await api(`/v1/phones/${encodeURIComponent(msisdn)}`);
  historyMsisdn = overview.msisdn;
  $("phone-summary").textContent = overview.known
    ? `${overview.msisdn}: operator ${overview.operator || "unknown"}, language ${overview.language || "default"}`
    : `${overview.msisdn}: this number has not texted the gateway`;
  $("balances").replaceChildren(...overview.balances.map((balance) => {
    const li = document.createElement("li");
    li.textContent = money(balance);
    return li;
  }));
  const pending = overview.pending_charge;
  $("pending").textContent = pending
    ? `Charge pending: ${money(pending.amount)} (${pending.state}), answer by ${when(pending.deadline)}`
    : "No charge pending.";
  $("sessions").tBodies[0].replaceChildren(...overview.sessions.map((s) =>
    row([s.zone, s.plate, when(s.start), when(s.end), money(s.prepaid)])));
  await loadHistory(true);
  $("phone-result").hidden = false;
}

async function checkPlate(plate, zone) {
  const query = zone ? `?zone=${encodeURIComponent(zone)}` : "";
  const answer = await api(`/v1/plates/${encodeURIComponent(plate)}${query}`);
  const verdict = $("plate-verdict");
  verdict.className = answer.paid ? "paid" : "unpaid";
  verdict.textContent = answer.paid
    ? `${answer.plate} is paid in zone ${answer.zone} until ${when(answer.until)}`
    : `${answer.plate} is not paid${zone ? " in zone " + zone : " in any zone"} now`;
  const zones = answer.zones || [{ zone: answer.zone, name: "", paid: answer.paid, until: answer.until }];
  $("plate-zones").tBodies[0].replaceChildren(...zones.map((z) =>
    row([z.zone, z.name || "", z.paid ? "yes" : "no", when(z.until)], z.paid ? "paid" : "")));
  $("plate-result").hidden = false;
}

function guarded(work) {
  return async (event) => {
    if (event) event.preventDefault();
    showError("");
    try {
      await work();
    } catch (error) {
      showError(error.message);
    }
  };
}

document.addEventListener("DOMContentLoaded", () => {
  showTokenState();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    showTokenState();
    showError("");
  });
  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
  });
  $("phone-form").addEventListener("submit", guarded(() => lookUpPhone($("msisdn").value.trim())));
  $("history-more").addEventListener("click", guarded(() => loadHistory(false)));
  $("plate-form").addEventListener("submit",
    guarded(() => checkPlate($("plate").value.trim(), $("zone").value.trim())));
});
