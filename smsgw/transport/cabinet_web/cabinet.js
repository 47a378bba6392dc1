// The driver's cabinet: sign in with a code texted to the phone, then the parking
// account, its sessions (extend, stop), history, vehicles, the zones' map, pay and top-up,
// all through the driver API (docs/driver-api.md) on this origin.
//
// The session token is an HttpOnly cookie this script never sees; state-changing calls
// carry the CSRF value, which is kept in memory only (from the sign-in answer or
// GET /v1/driver/me). localStorage holds nothing secret: the chosen language and a hint
// that a sign-in happened, so a fresh visitor's page does not start with a refused call.
// Everything shown is set with textContent: reply texts, names and plates are data.
"use strict";

const API = "/v1/driver";
const SVG_NS = "http://www.w3.org/2000/svg";
const LANGUAGES = ["ru", "kk", "en"];
const LANG_KEY = "smsgw.cabinet.lang";
const SIGNED_IN_KEY = "smsgw.cabinet.signed-in";
const HISTORY_PAGE = 20;
const POLL_MS = 2000;
const POLL_TRIES = 90; // three minutes: longer than an operator's confirmation window
const MAP_WIDTH = 1000;
const MAP_PAD = 0.08; // share of the drawing left empty around the zones
// minor-unit digits and signs as smsgw's replies write money (docs/driver-api.md)
const MINOR_DIGITS = { RUB: 2, KZT: 2 };
const SIGNS = { RUB: "₽", KZT: "₸", USD: "$", EUR: "€" };

const TEXTS = {
  ru: {
    title: "Парковка", language: "Язык", signOut: "Выйти", signInTitle: "Вход",
    phoneLabel: "Номер телефона", sendCode: "Получить код", codeLabel: "Код из SMS",
    signIn: "Войти", accountTitle: "Парковочный счёт", balanceLabel: "Баланс",
    sessionsTitle: "Парковки", noSessions: "Нет оплаченных парковок.",
    mapTitle: "Зоны на карте", cityLabel: "Город", pickZone: "Нажмите на зону на карте.",
    payTitle: "Оплатить парковку", zoneLabel: "Зона", plateLabel: "Госномер",
    hoursLabel: "Часов", quote: "Цена", pay: "Оплатить", topupTitle: "Пополнить счёт",
    amountLabel: "Сумма", topup: "Пополнить", vehiclesTitle: "Мои автомобили",
    addVehicle: "Добавить", remove: "Удалить", historyTitle: "История", older: "Ранее…",
    extend: "+1 ч", stop: "Остановить",
    codeSent: "Код отправлен по SMS. Он действует {minutes} мин.",
    signedOut: "Вы вышли.", signInAgain: "Войдите снова.",
    network: "Нет связи с сервером.", failed: "Ошибка {status}.",
    phoneBad: "Введите номер телефона цифрами, например 79161234567.",
    codeBad: "Введите 6 цифр из SMS.", amountBad: "Введите сумму.",
    hoursBad: "Укажите целое число часов.", fieldsMissing: "Заполните зону и госномер.",
    sessionLine: "Зона {zone}, {plate}: до {end}, оплачено {paid}",
    pending: "Ожидает подтверждения: {amount}",
    quoteLine: "Цена {price}, до {end}. На счёте {balance}, к списанию {charge}.",
    topupNone: "Пополнение для вашего оператора недоступно.",
    topupRange: "С мобильного счёта ({operator}): от {min} до {max}.",
    topupConfirmed: "Пополнение подтверждено: {amount}.",
    topupDeclined: "Пополнение отклонено.", topupExpired: "Пополнение не подтверждено вовремя.",
    paidNow: "сейчас платно", freeNow: "сейчас бесплатно", perHour: "{price} в час",
    vehicleAdded: "{plate} добавлен.", vehicleRemoved: "{plate} удалён.",
    historyEmpty: "История пуста.",
    kind_payment: "Оплата", kind_top_up: "Пополнение", kind_refund: "Возврат",
    kind_session: "Парковка", kind_charge: "Списание с мобильного", kind_reply: "SMS",
    kind_movement: "Движение", zoneWord: "зона {zone}",
    days: ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"],
  },
  kk: {
    title: "Тұрақ", language: "Тіл", signOut: "Шығу", signInTitle: "Кіру",
    phoneLabel: "Телефон нөмірі", sendCode: "Код алу", codeLabel: "SMS-тегі код",
    signIn: "Кіру", accountTitle: "Тұрақ шоты", balanceLabel: "Баланс",
    sessionsTitle: "Тұрақтар", noSessions: "Төленген тұрақ жоқ.",
    mapTitle: "Картадағы аймақтар", cityLabel: "Қала", pickZone: "Картадағы аймақты басыңыз.",
    payTitle: "Тұраққа төлеу", zoneLabel: "Аймақ", plateLabel: "Мемлекеттік нөмір",
    hoursLabel: "Сағат", quote: "Баға", pay: "Төлеу", topupTitle: "Шотты толтыру",
    amountLabel: "Сома", topup: "Толтыру", vehiclesTitle: "Менің көліктерім",
    addVehicle: "Қосу", remove: "Жою", historyTitle: "Тарих", older: "Бұрынырақ…",
    extend: "+1 сағ", stop: "Тоқтату",
    codeSent: "Код SMS арқылы жіберілді. Ол {minutes} мин жарамды.",
    signedOut: "Сіз шықтыңыз.", signInAgain: "Қайта кіріңіз.",
    network: "Сервермен байланыс жоқ.", failed: "Қате {status}.",
    phoneBad: "Телефон нөмірін цифрлармен енгізіңіз, мысалы 77011234567.",
    codeBad: "SMS-тегі 6 цифрды енгізіңіз.", amountBad: "Соманы енгізіңіз.",
    hoursBad: "Сағат санын бүтін санмен көрсетіңіз.",
    fieldsMissing: "Аймақ пен мемлекеттік нөмірді толтырыңыз.",
    sessionLine: "{zone} аймағы, {plate}: {end} дейін, төленді {paid}",
    pending: "Растауды күтуде: {amount}",
    quoteLine: "Бағасы {price}, {end} дейін. Шотта {balance}, есептен шығарылады {charge}.",
    topupNone: "Сіздің операторыңыз үшін толтыру қолжетімсіз.",
    topupRange: "Мобильді шоттан ({operator}): {min} бастап {max} дейін.",
    topupConfirmed: "Толтыру расталды: {amount}.",
    topupDeclined: "Толтыру қабылданбады.", topupExpired: "Толтыру уақытында расталмады.",
    paidNow: "қазір ақылы", freeNow: "қазір тегін", perHour: "сағатына {price}",
    vehicleAdded: "{plate} қосылды.", vehicleRemoved: "{plate} жойылды.",
    historyEmpty: "Тарих бос.",
    kind_payment: "Төлем", kind_top_up: "Толтыру", kind_refund: "Қайтару",
    kind_session: "Тұрақ", kind_charge: "Мобильді шоттан алу", kind_reply: "SMS",
    kind_movement: "Қозғалыс", zoneWord: "{zone} аймағы",
    days: ["Дс", "Сс", "Ср", "Бс", "Жм", "Сб", "Жс"],
  },
  en: {
    title: "Parking", language: "Language", signOut: "Sign out", signInTitle: "Sign in",
    phoneLabel: "Phone number", sendCode: "Get a code", codeLabel: "Code from the SMS",
    signIn: "Sign in", accountTitle: "Parking account", balanceLabel: "Balance",
    sessionsTitle: "Parking sessions", noSessions: "No paid parking.",
    mapTitle: "Zones on the map", cityLabel: "City", pickZone: "Tap a zone on the map.",
    payTitle: "Pay for parking", zoneLabel: "Zone", plateLabel: "Plate",
    hoursLabel: "Hours", quote: "Price", pay: "Pay", topupTitle: "Top up the account",
    amountLabel: "Amount", topup: "Top up", vehiclesTitle: "My vehicles",
    addVehicle: "Add", remove: "Remove", historyTitle: "History", older: "Older…",
    extend: "+1 h", stop: "Stop",
    codeSent: "The code has been sent by SMS. It is valid for {minutes} min.",
    signedOut: "You have signed out.", signInAgain: "Please sign in again.",
    network: "No connection to the server.", failed: "Error {status}.",
    phoneBad: "Enter the phone number in digits, e.g. 79161234567.",
    codeBad: "Enter the 6 digits from the SMS.", amountBad: "Enter an amount.",
    hoursBad: "Enter a whole number of hours.", fieldsMissing: "Fill in the zone and the plate.",
    sessionLine: "Zone {zone}, {plate}: until {end}, paid {paid}",
    pending: "Awaiting confirmation: {amount}",
    quoteLine: "Price {price}, until {end}. On the account {balance}, to charge {charge}.",
    topupNone: "Top-up is not available for your operator.",
    topupRange: "From the mobile account ({operator}): {min} to {max}.",
    topupConfirmed: "Top-up confirmed: {amount}.",
    topupDeclined: "The top-up was declined.", topupExpired: "The top-up was not confirmed in time.",
    paidNow: "paid now", freeNow: "free now", perHour: "{price} per hour",
    vehicleAdded: "{plate} added.", vehicleRemoved: "{plate} removed.",
    historyEmpty: "No history yet.",
    kind_payment: "Payment", kind_top_up: "Top-up", kind_refund: "Refund",
    kind_session: "Parking", kind_charge: "Mobile charge", kind_reply: "SMS",
    kind_movement: "Movement", zoneWord: "zone {zone}",
    days: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
  },
};
const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

const $ = (id) => document.getElementById(id);

const state = {
  lang: "ru",
  csrf: null, // in memory only
  me: null,
  phone: "", // the number a code was asked for
  account: null,
  history: [],
  historyNext: null,
  vehicles: [],
  topUpCurrency: "RUB",
  zones: [],
  city: null,
  zone: null,
  pendingPoll: false,
  timers: new Set(),
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// --- texts ---------------------------------------------------------------------------

function t(key, values) {
  const table = TEXTS[state.lang] || TEXTS.ru;
  const template = key in table ? table[key] : TEXTS.en[key];
  if (!values) return template;
  return template.replace(/\{(\w+)\}/g, (_all, name) =>
    name in values ? String(values[name]) : "");
}

function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = `${t("title")} — smsgw`;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  $("lang").value = state.lang;
}

function money(amount) {
  if (!amount) return "";
  if (typeof amount.text === "string" && amount.text) return amount.text;
  // the same shape as the SMS replies: "1 234,50 ₽" (ru, kk) or "1234.50 RUB" (en)
  const digits = amount.currency in MINOR_DIGITS ? MINOR_DIGITS[amount.currency] : 2;
  const scale = 10 ** digits;
  const sign = amount.minor < 0 ? "-" : "";
  const major = Math.floor(Math.abs(amount.minor) / scale);
  const minor = Math.abs(amount.minor) % scale;
  const fraction = minor ? String(minor).padStart(digits, "0") : "";
  if (state.lang === "en") {
    return `${sign}${major}${fraction ? "." + fraction : ""} ${amount.currency}`;
  }
  const grouped = major >= 1000 ? String(major).replace(/\B(?=(\d{3})+(?!\d))/g, " ") : String(major);
  const symbol = SIGNS[amount.currency] || amount.currency;
  return `${sign}${grouped}${fraction ? "," + fraction : ""} ${symbol}`;
}

function when(text) {
  // "2026-03-10T11:00:00+03:00" → "10.03 11:00": the zone's local time as the API sends it
  if (!text) return "";
  const match = /^\d{4}-(\d\d)-(\d\d)T(\d\d:\d\d)/.exec(text);
  return match ? `${match[2]}.${match[1]} ${match[3]}` : text;
}

function dayNames(days) {
  const names = t("days");
  return String(days).replace(/Mon|Tue|Wed|Thu|Fri|Sat|Sun/g,
    (day) => names[DAY_NAMES.indexOf(day)]);
}

function showMessage(text, isError) {
  const box = $("message");
  box.textContent = text || "";
  box.classList.toggle("error", Boolean(isError));
}

// --- the API -------------------------------------------------------------------------

async function readJson(response) {
  try {
    return await response.json();
  } catch (_notJson) {
    return null;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json", "Accept-Language": state.lang };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (_offline) {
    throw new ApiError(0, "network", t("network"));
  }
  const data = response.status === 204 ? null : await readJson(response);
  if (!response.ok) {
    const code = data && data.error ? data.error : "";
    const message = data && data.message ? data.message : t("failed", { status: response.status });
    if (response.status === 401 && state.me) signedOutLocally();
    throw new ApiError(response.status, code, message);
  }
  return data;
}

// --- polling -------------------------------------------------------------------------

function later(work, delay) {
  const timer = setTimeout(() => {
    state.timers.delete(timer);
    work();
  }, delay);
  state.timers.add(timer);
}

function stopTimers() {
  for (const timer of state.timers) clearTimeout(timer);
  state.timers.clear();
  state.pendingPoll = false;
}

// --- sign-in and sign-out ------------------------------------------------------------

function phoneDigits(text) {
  return text.replace(/[\s()+-]/g, "");
}

async function requestCode() {
  const phone = phoneDigits($("phone").value);
  if (!/^\d{10,15}$/.test(phone)) throw new ApiError(0, "phone", t("phoneBad"));
  const answer = await api("POST", "/codes", { phone });
  state.phone = phone;
  $("code-check").hidden = false;
  $("code").focus();
  const seconds = answer && answer.expires_in ? answer.expires_in : 300;
  showMessage(t("codeSent", { minutes: Math.ceil(seconds / 60) }));
  // the server limits resends; the button waits as long so a second tap is not refused
  const button = $("send-code");
  button.dataset.wait = "1";
  button.disabled = true;
  later(() => {
    delete button.dataset.wait;
    button.disabled = false;
  }, 1000 * (answer && answer.resend_in ? answer.resend_in : 60));
}

async function signIn() {
  const code = $("code").value.trim();
  if (!/^\d{6}$/.test(code)) throw new ApiError(0, "code", t("codeBad"));
  const answer = await api("POST", "/sessions", { phone: state.phone, code });
  state.csrf = answer && answer.csrf ? answer.csrf : null;
  $("code").value = "";
  localStorage.setItem(SIGNED_IN_KEY, "1");
  await enter(await api("GET", "/me"));
  showMessage("");
}

async function resume() {
  if (localStorage.getItem(SIGNED_IN_KEY) !== "1") return;
  try {
    await enter(await api("GET", "/me"));
  } catch (error) {
    if (error.status !== 401) throw error;
    localStorage.removeItem(SIGNED_IN_KEY); // the session ended elsewhere: sign in again
  }
}

async function enter(me) {
  state.me = me;
  if (me.csrf) state.csrf = me.csrf;
  if (!localStorage.getItem(LANG_KEY) && LANGUAGES.includes(me.language)) {
    state.lang = me.language; // the language the phone's SMS replies use
    applyTexts();
  }
  $("who").textContent = me.phone || "";
  showSignedIn(true);
  await refreshAll();
}

function showSignedIn(signedIn) {
  $("signin").hidden = signedIn;
  for (const id of ["account", "pay-section", "topup-section", "vehicles-section",
    "history-section", "sign-out", "who"]) {
    $(id).hidden = !signedIn;
  }
}

function signedOutLocally() {
  stopTimers();
  state.csrf = null;
  state.me = null;
  state.account = null;
  state.history = [];
  state.historyNext = null;
  state.vehicles = [];
  localStorage.removeItem(SIGNED_IN_KEY);
  // nothing of this driver's stays in the page for whoever signs in next
  for (const id of ["sessions", "history", "vehicles", "vehicle-plates"]) {
    $(id).replaceChildren();
  }
  for (const id of ["balance", "pending", "who", "quote-result"]) $(id).textContent = "";
  for (const id of ["pay-plate", "topup-amount", "code"]) $(id).value = "";
  $("quote-result").hidden = true;
  $("history-more").hidden = true;
  $("code-check").hidden = true;
  delete $("send-code").dataset.wait;
  $("send-code").disabled = false;
  showSignedIn(false);
}

async function signOut() {
  try {
    await api("DELETE", "/sessions/current");
  } catch (error) {
    if (error.status !== 401) throw error; // already dead: nothing left to end
  }
  signedOutLocally();
  showMessage(t("signedOut"));
}

// --- the account ---------------------------------------------------------------------

async function refreshAll() {
  await Promise.all([loadAccount(), loadVehicles(), loadHistory(true), loadTopUpOptions()]);
}

async function loadAccount() {
  state.account = await api("GET", "/account");
  renderAccount();
  // a charge awaiting the subscriber's `1`: look again until it is settled, one poll at a time
  if (state.account.pending_charge && !state.pendingPoll) {
    state.pendingPoll = true;
    later(guarded(async () => {
      state.pendingPoll = false;
      await loadAccount();
    }), POLL_MS);
  }
}

function renderAccount() {
  const account = state.account;
  if (!account) return;
  // one balance per currency the city's zones use; empty ones only while all are empty
  const balances = account.balances || [];
  const held = balances.filter((balance) => balance.minor !== 0);
  const shown = held.length ? held : balances.slice(0, 1);
  $("balance").textContent = shown.length ? shown.map(money).join(", ") : "0";
  const pending = account.pending_charge;
  $("pending").hidden = !pending;
  $("pending").textContent = pending ? t("pending", { amount: money(pending.amount) }) : "";
  const sessions = account.sessions || [];
  $("sessions").replaceChildren(...sessions.map(sessionCard));
  $("no-sessions").hidden = sessions.length > 0;
}

function sessionCard(session) {
  const card = document.createElement("div");
  card.className = "session";
  card.dataset.session = session.id;
  const text = document.createElement("p");
  text.textContent = t("sessionLine", {
    zone: session.zone, plate: session.plate, end: when(session.end), paid: money(session.paid),
  });
  const extend = button(t("extend"), "extend", guarded(() => extendSession(session.id)));
  const stop = button(t("stop"), "stop", guarded(() => stopSession(session.id)));
  const buttons = document.createElement("div");
  buttons.className = "buttons";
  buttons.append(extend, stop);
  card.append(text, buttons);
  return card;
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

async function extendSession(id) {
  const answer = await api("POST", `/parkings/${encodeURIComponent(id)}/extensions`, { hours: 1 });
  showMessage(answer && answer.message);
  await refreshAll();
}

async function stopSession(id) {
  const answer = await api("DELETE", `/parkings/${encodeURIComponent(id)}`);
  showMessage(answer && answer.message);
  await refreshAll();
}

// --- history -------------------------------------------------------------------------

async function loadHistory(reset) {
  const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (!reset && state.historyNext) query.set("before", state.historyNext);
  const page = await api("GET", `/history?${query}`);
  state.history = reset ? page.items : [...state.history, ...page.items];
  // the contract names the cursor `next`; the operators' history calls it `next_before`
  state.historyNext = page.next !== undefined ? page.next : page.next_before || null;
  renderHistory();
}

function renderHistory() {
  const list = $("history");
  if (!state.history.length) {
    const empty = document.createElement("li");
    empty.className = "quiet";
    empty.textContent = t("historyEmpty");
    list.replaceChildren(empty);
  } else {
    list.replaceChildren(...state.history.map(historyItem));
  }
  $("history-more").hidden = !state.historyNext;
}

function historyItem(item) {
  const li = document.createElement("li");
  li.dataset.type = item.type;
  const at = document.createElement("time");
  at.textContent = when(item.at);
  const kind = document.createElement("strong");
  kind.textContent = t(`kind_${item.type}`) || item.type;
  const amount = document.createElement("span");
  amount.className = "amount";
  amount.textContent = money(item.type === "session" ? item.prepaid || item.paid : item.amount);
  const details = document.createElement("span");
  details.className = "details";
  details.textContent = historyDetails(item);
  li.append(at, " ", kind, " ", amount, " ", details);
  return li;
}

function historyDetails(item) {
  switch (item.type) {
    case "session":
      return `${t("zoneWord", { zone: item.zone })}, ${item.plate}, ${when(item.start)}–${when(item.end)}`;
    case "reply":
      return item.text || "";
    case "charge":
      return [item.operator, item.state].filter(Boolean).join(", ");
    default:
      return item.zone ? t("zoneWord", { zone: item.zone }) : item.operator || "";
  }
}

// --- vehicles ------------------------------------------------------------------------

async function loadVehicles() {
  const answer = await api("GET", "/vehicles");
  state.vehicles = answer.vehicles || [];
  renderVehicles();
}

function renderVehicles() {
  $("vehicles").replaceChildren(...state.vehicles.map((vehicle) => {
    const li = document.createElement("li");
    li.className = "vehicle";
    li.dataset.plate = vehicle.plate;
    const use = button(vehicle.plate, "vehicle-use", () => { $("pay-plate").value = vehicle.plate; });
    const remove = button(t("remove"), "vehicle-remove", guarded(() => removeVehicle(vehicle.plate)));
    li.append(use, remove);
    return li;
  }));
  $("vehicle-plates").replaceChildren(...state.vehicles.map((vehicle) => {
    const option = document.createElement("option");
    option.value = vehicle.plate;
    return option;
  }));
  if (!$("pay-plate").value && state.vehicles.length) $("pay-plate").value = state.vehicles[0].plate;
}

async function addVehicle() {
  const answer = await api("POST", "/vehicles", { plate: $("vehicle-plate").value.trim() });
  $("vehicle-plate").value = "";
  showMessage(t("vehicleAdded", { plate: answer.plate }));
  await loadVehicles();
}

async function removeVehicle(plate) {
  await api("DELETE", `/vehicles/${encodeURIComponent(plate)}`);
  showMessage(t("vehicleRemoved", { plate }));
  await loadVehicles();
}

// --- pay -----------------------------------------------------------------------------

function parkingRequest() {
  const zone = $("pay-zone").value.trim();
  const plate = $("pay-plate").value.trim();
  if (!zone || !plate) throw new ApiError(0, "fields", t("fieldsMissing"));
  const hours = Number($("pay-hours").value);
  if (!Number.isInteger(hours) || hours < 1) throw new ApiError(0, "hours", t("hoursBad"));
  return { zone, plate, hours };
}

async function quote() {
  const answer = await api("POST", "/quotes", parkingRequest());
  const result = $("quote-result");
  result.textContent = t("quoteLine", {
    price: money(answer.price), end: when(answer.end),
    balance: money(answer.balance), charge: money(answer.to_charge),
  });
  result.hidden = false;
}

async function pay() {
  const answer = await api("POST", "/parkings", parkingRequest());
  $("quote-result").hidden = true;
  showMessage(answer.message);
  await refreshAll();
}

// --- top-up --------------------------------------------------------------------------

async function loadTopUpOptions() {
  const answer = await api("GET", "/top-ups/options");
  const mobile = (answer.methods || []).find((method) => method.kind === "mobile");
  $("topup").disabled = !mobile;
  $("topup-options").textContent = mobile
    ? t("topupRange", { operator: mobile.operator, min: money(mobile.min), max: money(mobile.max) })
    : t("topupNone");
  if (!mobile) return;
  state.topUpCurrency = mobile.min.currency;
  const scale = 10 ** minorDigits(state.topUpCurrency);
  $("topup-amount").min = String(Math.ceil(mobile.min.minor / scale));
  $("topup-amount").max = String(Math.floor(mobile.max.minor / scale));
  $("topup-currency").textContent = SIGNS[state.topUpCurrency] || state.topUpCurrency;
}

function minorDigits(currency) {
  return currency in MINOR_DIGITS ? MINOR_DIGITS[currency] : 2;
}

async function topUp() {
  const major = Number(String($("topup-amount").value).replace(",", "."));
  if (!Number.isFinite(major) || major <= 0) throw new ApiError(0, "amount", t("amountBad"));
  const currency = state.topUpCurrency;
  const minor = Math.round(major * 10 ** minorDigits(currency));
  const answer = await api("POST", "/top-ups", { amount: { minor, currency } });
  showMessage(answer.message);
  await loadAccount();
  watchTopUp(answer.charge_id, POLL_TRIES);
}

function watchTopUp(chargeId, triesLeft) {
  if (triesLeft <= 0) return;
  later(guarded(async () => {
    const answer = await api("GET", `/top-ups/${encodeURIComponent(chargeId)}`);
    if (answer.state === "awaiting_confirmation") {
      watchTopUp(chargeId, triesLeft - 1);
      return;
    }
    const key = { confirmed: "topupConfirmed", declined: "topupDeclined" }[answer.state] || "topupExpired";
    showMessage(t(key, { amount: money(answer.amount) }), answer.state !== "confirmed");
    await refreshAll();
  }), POLL_MS);
}

// --- zones and the map ---------------------------------------------------------------

async function loadZones() {
  const collection = await api("GET", "/zones");
  state.zones = collection.features || [];
  const cities = [...new Set(state.zones.map((zone) => zone.properties.city || ""))];
  if (!cities.includes(state.city)) state.city = cities.length ? cities[0] : null;
  $("map-city").replaceChildren(...cities.map((city) => {
    const option = document.createElement("option");
    option.value = city;
    option.textContent = city || "—";
    return option;
  }));
  $("map-city").value = state.city || "";
  drawMap();
  showZone(state.zone);
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function cityOf(zone) {
  return zone.properties.city || "";
}

function drawMap() {
  // one group per city, each projected from its own zones' bounding box: the cities lie
  // thousands of kilometres apart, and one shared box would shrink every zone to a dot
  const svg = $("map");
  const groups = [];
  for (const city of new Set(state.zones.map(cityOf))) {
    const group = cityGroup(city, state.zones.filter((zone) => cityOf(zone) === city));
    group.element.classList.toggle("shown", city === state.city);
    groups.push(group);
  }
  svg.replaceChildren(...groups.map((group) => group.element));
  const shown = groups.find((group) => group.city === state.city);
  svg.setAttribute("viewBox", `0 0 ${MAP_WIDTH} ${shown ? shown.height : 600}`);
  renderZoneList();
}

function projection(points) {
  // equirectangular: x grows with longitude shrunk by the cosine of the middle latitude,
  // y grows southwards; the box is padded and scaled to MAP_WIDTH
  const lons = points.map((point) => point[0]);
  const lats = points.map((point) => point[1]);
  let [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const minimum = 0.002; // about 200 m: a single point still gets a readable box
  if (east - west < minimum) [west, east] = [west - minimum / 2, east + minimum / 2];
  if (north - south < minimum) [south, north] = [south - minimum / 2, north + minimum / 2];
  const shrink = Math.cos(((north + south) / 2) * Math.PI / 180);
  const width = (east - west) * shrink;
  const height = north - south;
  const scale = (MAP_WIDTH * (1 - 2 * MAP_PAD)) / Math.max(width, height);
  const offsetX = (MAP_WIDTH - width * scale) / 2;
  const drawnHeight = Math.max(height * scale / (1 - 2 * MAP_PAD), MAP_WIDTH * 0.5);
  const offsetY = (drawnHeight - height * scale) / 2;
  return {
    height: Math.round(drawnHeight),
    xy: ([lon, lat]) => [
      +(offsetX + (lon - west) * shrink * scale).toFixed(1),
      +(offsetY + (north - lat) * scale).toFixed(1),
    ],
  };
}

function cityGroup(city, zones) {
  const element = document.createElementNS(SVG_NS, "g");
  element.setAttribute("class", "city");
  element.dataset.city = city;
  const points = zones.flatMap((zone) => [
    ...rings(zone.geometry).flat(),
    ...(zone.properties.point ? [zone.properties.point] : []),
  ]);
  if (!points.length) return { city, element, height: 600 };
  const project = projection(points);
  for (const zone of zones) {
    const outline = rings(zone.geometry);
    if (outline.length) element.appendChild(zonePath(zone, outline, project.xy));
    const anchor = zone.properties.point || (outline.length ? centre(outline[0]) : null);
    if (anchor) element.appendChild(zoneLabel(zone, project.xy(anchor)));
  }
  return { city, element, height: project.height };
}

function centre(ring) {
  // the middle of the ring's box: where a label sits when the zone names no point
  const lons = ring.map((point) => point[0]);
  const lats = ring.map((point) => point[1]);
  return [(Math.min(...lons) + Math.max(...lons)) / 2, (Math.min(...lats) + Math.max(...lats)) / 2];
}

function zonePath(zone, outline, xy) {
  const number = zone.properties.number;
  const path = document.createElementNS(SVG_NS, "path");
  const d = outline.map((ring) =>
    "M" + ring.map((point) => xy(point).join(",")).join("L") + "Z").join("");
  path.setAttribute("d", d);
  path.setAttribute("class", zone.properties.paid_now ? "zone paid-now" : "zone");
  path.setAttribute("tabindex", "0");
  path.setAttribute("role", "button");
  path.setAttribute("aria-label", `${number} ${zone.properties.name || ""}`.trim());
  path.dataset.zone = number;
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = `${number} ${zone.properties.name || ""}`.trim();
  path.appendChild(title);
  path.addEventListener("click", () => pickZone(number));
  path.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pickZone(number);
    }
  });
  return path;
}

function zoneLabel(zone, [x, y]) {
  const label = document.createElementNS(SVG_NS, "text");
  label.setAttribute("class", "zone-label");
  label.setAttribute("x", String(x));
  label.setAttribute("y", String(y));
  label.setAttribute("text-anchor", "middle");
  label.setAttribute("dominant-baseline", "middle");
  label.textContent = zone.properties.number;
  return label;
}

function renderZoneList() {
  const zones = state.zones.filter((zone) => cityOf(zone) === state.city);
  $("zone-list").replaceChildren(...zones.map((zone) => {
    const li = document.createElement("li");
    const number = zone.properties.number;
    li.appendChild(button(`${number} ${zone.properties.name || ""}`.trim(), "zone-pick",
      () => pickZone(number)));
    li.lastChild.dataset.zone = number;
    return li;
  }));
}

function pickZone(number) {
  state.zone = number;
  $("pay-zone").value = number;
  showZone(number);
}

function showZone(number) {
  for (const path of $("map").querySelectorAll("path.zone")) {
    path.classList.toggle("selected", path.dataset.zone === number);
  }
  const zone = state.zones.find((candidate) => candidate.properties.number === number);
  const info = $("zone-info");
  if (!zone) {
    info.textContent = t("pickZone");
    return;
  }
  const p = zone.properties;
  const schedule = (p.schedule || [])
    .map((window) => `${dayNames(window.days)} ${window.from}–${window.to}`).join("; ");
  info.textContent = [
    `${p.number} ${p.name || ""}`.trim(),
    t("perHour", { price: money(p.price_per_hour) }),
    p.paid_now ? t("paidNow") : t("freeNow"),
    schedule,
  ].filter(Boolean).join(" · ");
}

function showCity(city) {
  state.city = city;
  drawMap();
  showZone(state.zone);
}

// --- wiring --------------------------------------------------------------------------

function guarded(work) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    const control = event && event.submitter ? event.submitter : null;
    if (control) control.disabled = true;
    try {
      await work();
    } catch (error) {
      showMessage(error.message, true);
    } finally {
      // a button that waits on purpose (the code's resend delay) keeps waiting
      if (control && !control.dataset.wait) control.disabled = false;
    }
  };
}

async function changeLanguage(lang) {
  state.lang = LANGUAGES.includes(lang) ? lang : "ru";
  localStorage.setItem(LANG_KEY, state.lang);
  applyTexts();
  // server texts (money, names) come in the request's language: ask again
  const reloads = [loadZones()];
  if (state.me) reloads.push(refreshAll());
  await Promise.all(reloads);
}

document.addEventListener("DOMContentLoaded", async () => {
  const saved = localStorage.getItem(LANG_KEY);
  state.lang = LANGUAGES.includes(saved) ? saved : "ru";
  applyTexts();
  $("lang").addEventListener("change", guarded(() => changeLanguage($("lang").value)));
  $("code-request").addEventListener("submit", guarded(requestCode));
  $("code-check").addEventListener("submit", guarded(signIn));
  $("sign-out").addEventListener("click", guarded(signOut));
  $("pay-form").addEventListener("submit", guarded(pay));
  $("quote").addEventListener("click", guarded(quote));
  $("topup-form").addEventListener("submit", guarded(topUp));
  $("vehicle-form").addEventListener("submit", guarded(addVehicle));
  $("history-more").addEventListener("click", guarded(() => loadHistory(false)));
  $("map-city").addEventListener("change", () => showCity($("map-city").value));
  const results = await Promise.allSettled([loadZones(), resume()]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) showMessage(failed.reason.message, true);
  document.body.dataset.ready = "true";
});
