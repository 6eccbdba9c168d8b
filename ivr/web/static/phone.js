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

// How the line took a reply, as the server reports it (its "taken"), in words. The classes of
// answer come from the answer model, which may grow: an unknown one is shown by its own name.
const TAKEN = {
  yes: "yes",
  no: "no",
  unsure: "not sure",
  unclear: "not understood",
  unconfirmed: "a faint no, to confirm by key",
  emergency_words: "emergency words",
  urgent_words: "words of an urgent sign",
  crisis_words: "words of a crisis",
  help: "asked for help",
  language: "switched language",
  nurse: "asked for a nurse",
  rate_limited: "paused: too many texts",
  opted_out: "opted out",
  opted_in: "opted back in",
  ignored: "no reply",
  ended: "ended",
  repeat: "a repeat",
  start: "started",
};

function takenWords(taken) {
  return TAKEN[taken] || String(taken || "").replaceAll("_", " ") || "nothing new";
}

function languageName(code) {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch (error) {
    return code;
  }
}

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
  const answered = new Map(here.path.filter((step) => step.question).map((step) => [step.question, step.taken]));
  $("flow-meta").textContent = `${flow.title} (flow ${flow.id}, version ${flow.version}), shown in ${lang()}.`;
  $("text-lang").textContent = `Language: ${languageName(state.text.lang || flow.languages[0])}`;
  $("call-lang").textContent = `Language: ${languageName(state.call.lang || flow.languages[0])}`;

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
    if (answered.has(q.id)) head.append(element("span", "badge done", `answered: ${takenWords(answered.get(q.id))}`));
    const text = element("p", "q-text", q.text[lang()]);
    text.lang = lang();
    item.append(head, text);
    item.append(element("p", "q-routes", `yes → ${nodeName(q.yes)} · no → ${nodeName(q.no)}`));
    questions.append(item);
  }

  const outcomes = $("flow-outcomes");
  outcomes.replaceChildren();
  for (const o of flow.outcomes) {
    const item = element("li", "outcome");
    item.dataset.node = o.id;
    item.dataset.kind = o.kind;
    if (o.id === current) {
      item.classList.add("current");
      item.setAttribute("aria-current", "step");
    }
    const head = element("p", "q-head");
    head.append(element("span", "q-id", o.id), element("span", "badge kind", o.kind));
    if (o.id === current) head.append(element("span", "badge now", "reached"));
    const text = element("p", "q-text", o.text[lang()]);
    text.lang = lang();
    item.append(head, text);
    outcomes.append(item);
  }

  const path = $("path");
  path.replaceChildren();
  for (const step of here.path) path.append(pathItem(step));
  $("path-empty").hidden = here.path.length > 0;
  followCurrent();
}

// A step of the path: where it was, what the person did (in their language), how the line took
// it, and where that led.
function pathItem(step) {
  const item = element("li", "");
  item.dataset.taken = step.taken;
  if (step.question) item.append(`${nodeName(step.question)}: `);
  const input = element("span", "said", step.input);
  if (step.inputLang) input.lang = step.inputLang;
  item.append(input, ` → ${takenWords(step.taken)}`);
  if (step.to) item.append(` → ${step.to}`);
  return item;
}

// The panel keeps the current step in view, inside itself: the page, and the phone on it, stay put.
function followCurrent() {
  const panel = $("flow-panel");
  const item = panel.querySelector("[aria-current=step]");
  if (!item || panel.scrollHeight <= panel.clientHeight + 1) return;
  const top = item.offsetTop;
  const bottom = top + item.offsetHeight;
  if (top < panel.scrollTop || bottom > panel.scrollTop + panel.clientHeight) {
    panel.scrollTop = Math.max(0, top - panel.clientHeight / 3);
  }
}

// What the person's last input did, as the line reported it (`taken`), and where it left the
// conversation (`place`, read from the reply).
function advance(here, place, taken, input, inputLang) {
  if (taken && taken.taken === "start") here.path = []; // a new conversation from this number
  if (taken && taken.taken !== "start" && taken.taken !== "") {
    let to = "";
    const next = place && place.node;
    if (taken.outcome) to = nodeName(taken.outcome);
    else if (next && taken.question && next !== taken.question) to = nodeName(next);
    else if (next && question(next)) to = `${nodeName(next)} asked again`;
    here.path.push({ question: taken.question, taken: taken.taken, input, inputLang, to });
  }
  if (place && place.node) here.place = place;
  else if (taken && taken.outcome) here.place = { node: taken.outcome, lang: taken.lang };
  const spoken = (taken && taken.lang) || (place && place.lang);
  if (spoken) here.lang = spoken;
}

// The reply that ends a conversation as a card of its outcome's kind (colours follow the kind,
// with a neutral one for a kind the page does not know), then a line that says it is over.
function markOutcome(bubbles, taken, list, channel) {
  const reached = taken && taken.outcome ? outcome(taken.outcome) : null;
  if (!reached || !bubbles.length) return;
  for (const bubble of bubbles) {
    bubble.classList.add("outcome-card");
    bubble.dataset.kind = reached.kind;
  }
  const label = element("p", "kind-label", `Outcome: ${reached.kind} (${reached.id})`);
  label.lang = "en";
  bubbles[0].prepend(label);
  const again = channel === "text" ? "Text again to start a new conversation." : "Call again to start over.";
  const end = element("li", "bubble end", `End of the conversation: the line gave its ${reached.kind} advice. ${again}`);
  end.lang = "en";
  end.dataset.kind = reached.kind;
  list.append(end);
}

// ---- texting ---------------------------------------------------------------------------------

function segmentNote(message) {
  const plural = message.segments === 1 ? "segment" : "segments";
  let note = `${message.segments} SMS ${plural} · ${message.encoding} · ${message.units}/${message.capacity}`;
  if (message.not_gsm7.length) note += ` · UCS-2 because of ${message.not_gsm7.join(" ")}`;
  return note;
}

function addBubble(who, text, note, language) {
  const item = element("li", `bubble ${who}`);
  item.append(element("span", "visually-hidden", who === "me" ? "You: " : "Line: "));
  const body = element("p", "body", text);
  if (language) body.lang = language;
  item.append(body);
  if (note) {
    const meta = element("p", "meta segments", note);
    meta.lang = "en";
    item.append(meta);
  }
  $("messages").append(item);
  return item;
}

// The line pauses replies to a number that texts too often (RATE_LIMIT_TEXTS in
// RATE_LIMIT_WINDOW seconds), as it would for a real phone: say so, and offer a new number.
function explainPause() {
  const limit = state.flow.rate_limit;
  const minutes = Math.round(limit.window_seconds / 60);
  const item = element("li", "bubble note pause");
  item.lang = "en";
  item.append(
    element(
      "p",
      "body",
      `The line has paused replies to ${state.text.phone}: more than ${limit.texts} texts in ${minutes} minutes ` +
        "(RATE_LIMIT_TEXTS, RATE_LIMIT_WINDOW), as it does for any phone, to stop loops with auto-responders. " +
        "Replies resume when the window has passed; or text from another number.",
    ),
  );
  const button = element("button", "secondary", "Text from a new number");
  button.type = "button";
  button.addEventListener("click", restartText);
  item.append(button);
  $("messages").append(item);
  return item;
}

async function sendText(event) {
  event.preventDefault();
  const box = $("text-body");
  const body = box.value;
  if (!body.trim() || pending) return;
  box.value = "";
  const mine = addBubble("me", body);
  busy(true);
  try {
    const reply = await post("/local/text", { phone: state.text.phone, body });
    const taken = reply.taken;
    const language = (taken && taken.lang) || (reply.at && reply.at.lang) || state.text.lang || lang();
    const bubbles = reply.messages.map((message) => addBubble("line", message.text, segmentNote(message), language));
    mine.querySelector(".body").lang = language; // the line read it as written in that language
    let first = bubbles[0] || null;
    markOutcome(bubbles, taken, $("messages"), "text");
    const paused = taken && taken.taken === "rate_limited";
    if (!reply.messages.length && !paused) first = addBubble("line note", "(no reply)");
    if (paused) {
      const note = explainPause();
      first = first || note;
    }
    // The first new message is brought into view at its top, so its opening (the 911 notice in a
    // first reply) is what is read first.
    showFromTop($("messages-log"), first);
    advance(state.text, reply.at, taken, `“${body}”`, language);
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

function caption(text, kind, language) {
  const item = element("li", `bubble ${kind}`);
  const body = element("p", "body", text);
  body.lang = language || "en";
  item.append(body);
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
  // In a call that is what the line said, never an answer key: Enter on a key would answer.
  const focused = document.activeElement;
  if (state.mode === "call" && (!focused || focused === document.body || focused.disabled)) {
    (inCall ? $("captions-log") : $("call-start")).focus();
  }
}

async function callAction(action, extra, said, input) {
  if (pending) return;
  const call = state.call;
  busy(true);
  let mine = null;
  if (said) {
    mine = caption("", "me");
    mine.querySelector(".body").append(...said);
  }
  try {
    const reply = await post("/local/call", { action, call: call.id, phone: call.phone, ...extra });
    const taken = reply.taken;
    const bubbles = [];
    for (const say of reply.says) {
      bubbles.push(caption(say.text, "line", say.locale));
      speak(say);
    }
    const first = bubbles[0] || null;
    markOutcome(bubbles, taken, $("captions"), "call");
    if (first) showFromTop($("captions-log"), first);
    call.id = reply.ended ? null : reply.call;
    call.listening = reply.listening;
    call.ended = reply.ended;
    if (reply.ended) caption(action === "hangup" ? "(You hung up.)" : "(The line hung up.)", "note");
    const language = (taken && taken.lang) || (reply.at && reply.at.lang) || call.lang || lang();
    if (mine) for (const words of mine.querySelectorAll(".said")) words.lang = language;
    if (reply.at || taken) advance(call, reply.at, taken, input || action, input && input.startsWith("“") ? language : "en");
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
  callAction("press", { keys: key }, [`You pressed ${key}`], `key ${key}`);
}

function say(event) {
  event.preventDefault();
  const words = $("say-words").value;
  if (!words.trim()) return;
  const confidence = Number($("say-confidence").value);
  $("say-words").value = "";
  const quoted = element("span", "said", `“${words}”`);
  callAction("say", { words, confidence }, ["You said ", quoted, ` (confidence ${confidence.toFixed(2)})`], `“${words}”`);
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
  $("call-silence").addEventListener("click", () => callAction("silence", {}, ["(You say nothing.)"], "silence"));
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
