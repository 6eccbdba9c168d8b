// The phone in the browser: texts and calls go to /local/text and /local/call, which post signed
// webhooks to the real app; the side panel follows the flow with the places those replies report.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  flow: null,
  mode: "text",
  text: { phone: "", place: null, path: [], lang: null },
  call: { phone: "", id: null, place: null, path: [], lang: null, listening: null },
};

function randomPhone() {
  // +1 555 01XX numbers are reserved for fiction; the rest of 555 is fine for a made-up caller.
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(7)), (b) => b % 10).join("");
  return "+1555" + (digits === "0100000" ? "0100001" : digits);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(typeof data.detail === "string" ? data.detail : `the server answered ${response.status}`);
  }
  return data;
}

// One request at a time. Controls are not disabled meanwhile, which would throw the keyboard
// focus back to the top of the page; <body data-busy> says the line is answering (the browser
// tests wait on it).
let pending = false;
function busy(on) {
  pending = on;
  if (on) document.body.dataset.busy = "true";
  else delete document.body.dataset.busy;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- the flow panel -------------------------------------------------------------------------

function conversation() {
  return state.mode === "text" ? state.text : state.call;
}

function lang() {
  return conversation().lang || state.flow.languages[0];
}

function question(id) {
  return state.flow.questions.find((q) => q.id === id);
}

function outcome(id) {
  return state.flow.outcomes.find((o) => o.id === id);
}

function nodeName(id) {
  return outcome(id) ? id.toUpperCase() : id;
}

// Brings a new message to the top of its thread, so its opening (the 911 notice, in a first
// reply) is what is read first; the page itself does not move.
function showFromTop(thread, item) {
  thread.scrollTop = item.offsetTop;
}

function renderPanel() {
  const flow = state.flow;
  if (!flow) return;
  const here = conversation();
  const current = here.place ? here.place.node : null;
  const answered = new Map(here.path.filter((step) => step.from).map((step) => [step.from, step.went]));
  $("flow-meta").textContent = `${flow.title} (flow ${flow.id}, version ${flow.version}), shown in ${lang()}.`;

  const questions = $("flow-questions");
  questions.replaceChildren();
  for (const q of flow.questions) {
    const item = element("li", "question");
    item.dataset.node = q.id;
    if (q.id === current) {
      item.classList.add("current");
      item.setAttribute("aria-current", "step");
    }
    const head = element("p", "q-head");
    head.append(element("span", "q-id", q.id));
    if (q.red_flag) head.append(element("span", "badge red", "red flag"));
    if (q.id === current) head.append(element("span", "badge now", "asked now"));
    if (answered.has(q.id)) head.append(element("span", "badge done", `answered: ${answered.get(q.id)}`));
    item.append(head, element("p", "q-text", q.text[lang()]));
    item.append(element("p", "q-routes", `yes → ${nodeName(q.yes)} · no → ${nodeName(q.no)}`));
    questions.append(item);
  }

  const outcomes = $("flow-outcomes");
  outcomes.replaceChildren();
  for (const o of flow.outcomes) {
    const item = element("li", `outcome ${o.kind}`);
    item.dataset.node = o.id;
    if (o.id === current) {
      item.classList.add("current");
      item.setAttribute("aria-current", "step");
    }
    const head = element("p", "q-head");
    head.append(element("span", "q-id", o.id), element("span", `badge ${o.kind}`, o.kind));
    if (o.id === current) head.append(element("span", "badge now", "reached"));
    item.append(head, element("p", "q-text", o.text[lang()]));
    outcomes.append(item);
  }

  const path = $("path");
  path.replaceChildren();
  for (const step of here.path) path.append(element("li", "", step.label));
  $("path-empty").hidden = here.path.length > 0;
}

// Where the person's last input took the conversation, as a step of the path.
function advance(here, place, input) {
  const before = here.place;
  if (before && outcome(before.node) && place && place.node && !outcome(place.node)) {
    here.path = []; // the last conversation ended; this reply starts another
  }
  if (place && place.node) {
    const from = before && question(before.node);
    let went;
    if (from && place.node === from.yes) went = "yes";
    else if (from && place.node === from.no) went = "no";
    else if (from && place.node === from.id) went = "asked again";
    if (from) {
      const to = went === "asked again" ? "" : ` → ${nodeName(place.node)}`;
      here.path.push({ from: went === "asked again" ? null : from.id, went, label: `${nodeName(from.id)}: ${input} → ${went || "jumped"}${to}` });
    } else if (outcome(place.node)) {
      here.path.push({ from: null, went: null, label: `${input} → ${nodeName(place.node)}` });
    }
    if (place.lang) here.lang = place.lang;
  }
  here.place = place;
}

// ---- texting ---------------------------------------------------------------------------------

function segmentNote(message) {
  const plural = message.segments === 1 ? "segment" : "segments";
  let note = `${message.segments} SMS ${plural} · ${message.encoding} · ${message.units}/${message.capacity}`;
  if (message.not_gsm7.length) note += ` · UCS-2 because of ${message.not_gsm7.join(" ")}`;
  return note;
}

function addBubble(who, text, note) {
  const item = element("li", `bubble ${who}`);
  item.append(element("span", "visually-hidden", who === "me" ? "You: " : "Line: "));
  item.append(element("p", "body", text));
  if (note) item.append(element("p", "meta segments", note));
  $("messages").append(item);
  return item;
}

async function sendText(event) {
  event.preventDefault();
  const box = $("text-body");
  const body = box.value;
  if (!body.trim() || pending) return;
  box.value = "";
  addBubble("me", body);
  busy(true);
  try {
    const reply = await post("/local/text", { phone: state.text.phone, body });
    let first = null;
    for (const message of reply.messages) {
      const bubble = addBubble("line", message.text, segmentNote(message));
      first = first || bubble;
    }
    if (!reply.messages.length) first = addBubble("line note", "(no reply)");
    // The first new message is brought into view at its top, so its opening (the 911 notice in a
    // first reply) is what is read first.
    showFromTop($("messages-log"), first);
    advance(state.text, reply.at, `“${body}”`);
  } catch (error) {
    addBubble("line note", `The page could not reach the line: ${error.message}`);
  } finally {
    renderPanel();
    busy(false);
  }
}

function restartText() {
  state.text = { phone: randomPhone(), place: null, path: [], lang: null };
  $("text-phone").textContent = state.text.phone;
  $("messages").replaceChildren();
  renderPanel();
  $("text-body").focus();
}

// ---- calling ---------------------------------------------------------------------------------

function speak(say) {
  if (!$("read-aloud").checked || !("speechSynthesis" in window)) return;
  const utterance = new SpeechSynthesisUtterance(say.text);
  if (say.locale) utterance.lang = say.locale;
  window.speechSynthesis.speak(utterance);
}

function caption(text, kind) {
  const item = element("li", `bubble ${kind}`);
  item.append(element("p", "body", text));
  $("captions").append(item);
  return item;
}

function setCallControls() {
  const call = state.call;
  const inCall = call.id !== null;
  const listening = call.listening;
  $("call-start").disabled = inCall;
  $("call-hangup").disabled = !inCall;
  for (const key of $("keypad").querySelectorAll("button")) key.disabled = !listening;
  const canSpeak = listening === "keys and speech";
  for (const control of $("say-form").querySelectorAll("input, button")) control.disabled = !canSpeak;
  $("call-silence").disabled = !listening;
  let status = "Not in a call.";
  if (inCall && listening === "keys and speech") status = "In a call: the line listens for a key or your words.";
  else if (inCall && listening === "keys") status = "In a call: the line listens for a key only.";
  else if (call.ended) status = "The call has ended.";
  $("call-status").textContent = status;
  // A control that was just disabled had the focus: give it to what comes next, not to the page.
  const focused = document.activeElement;
  if (state.mode === "call" && (!focused || focused === document.body || focused.disabled)) {
    (inCall ? $("keypad").querySelector("button") : $("call-start")).focus();
  }
}

async function callAction(action, extra, said, input) {
  if (pending) return;
  const call = state.call;
  busy(true);
  if (said) caption(said, "me");
  try {
    const reply = await post("/local/call", { action, call: call.id, phone: call.phone, ...extra });
    let first = null;
    for (const say of reply.says) {
      const bubble = caption(say.text, "line");
      first = first || bubble;
      speak(say);
    }
    if (first) showFromTop($("captions-log"), first);
    call.id = reply.ended ? null : reply.call;
    call.listening = reply.listening;
    call.ended = reply.ended;
    if (reply.ended) caption(action === "hangup" ? "(You hung up.)" : "(The line hung up.)", "note");
    if (reply.at) advance(call, reply.at, input || action);
  } catch (error) {
    caption(`The page could not reach the line: ${error.message}`, "note");
  } finally {
    setCallControls();
    renderPanel();
    busy(false);
  }
}

function startCall() {
  if (pending) return;
  state.call = { phone: randomPhone(), id: null, place: null, path: [], lang: null, listening: null, ended: false };
  $("captions").replaceChildren();
  if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  callAction("start", {}, null);
}

function press(key) {
  callAction("press", { keys: key }, `You pressed ${key}`, `key ${key}`);
}

function say(event) {
  event.preventDefault();
  const words = $("say-words").value;
  if (!words.trim()) return;
  const confidence = Number($("say-confidence").value);
  $("say-words").value = "";
  const heard = `“${words}” (confidence ${confidence.toFixed(2)})`;
  callAction("say", { words, confidence }, `You said ${heard}`, `said ${heard}`);
}

// ---- modes and start -------------------------------------------------------------------------

function showMode() {
  state.mode = $("mode-call").checked ? "call" : "text";
  $("text-mode").hidden = state.mode !== "text";
  $("call-mode").hidden = state.mode !== "call";
  renderPanel();
}

async function start() {
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", showMode);
  $("text-form").addEventListener("submit", sendText);
  $("text-restart").addEventListener("click", restartText);
  $("call-start").addEventListener("click", startCall);
  $("call-hangup").addEventListener("click", () => callAction("hangup", {}, null));
  $("call-silence").addEventListener("click", () => callAction("silence", {}, "(You say nothing.)", "silence"));
  $("say-form").addEventListener("submit", say);
  $("say-confidence").addEventListener("input", (event) => {
    $("say-confidence-value").textContent = Number(event.target.value).toFixed(2);
  });
  for (const key of $("keypad").querySelectorAll("button")) {
    key.addEventListener("click", () => press(key.dataset.key));
  }
  state.text.phone = randomPhone();
  $("text-phone").textContent = state.text.phone;
  setCallControls();
  const response = await fetch("/local/flow");
  state.flow = await response.json();
  showMode();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
