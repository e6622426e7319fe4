// app.js — oj's dashboard: a third-party client of proto/ in the browser.
//
// It loads /proto/wire.proto and /proto/oj.proto with protobufjs (field names kept as in
// the .proto files, so every name below is the protocol's own), asks /api/endpoints for
// the two websocket paths, and speaks the SP protocols over them (docs/protocol.md):
//   rpc    (rep.sp.nanomsg.org): we are the REQ peer: 4-byte big-endian request id with
//          the high bit set, then an oj.RequestFrame; the reply starts with the same 4 bytes.
//   events (pub.sp.nanomsg.org): topic ("ev/", "out/<session-id>/", "hb/") + oj.PubFrame.
// Tables are re-queried when an event arrives (coalesced: one query round at a time, one
// more if events came meanwhile); nothing polls.
"use strict";

const TERMINAL_TAIL_BYTES = 256 * 1024; // how much of a session's log the terminal starts with
const EVENTS_KEPT = 200;
const FINISHED = new Set(["done", "failed", "cancelled", "archived"]);

const $ = (sel) => document.querySelector(sel);
let proto = null;  // protobufjs Root
let rpcSocket = null;
const pending = new Map(); // 31-bit SP request id -> {resolve, reject}
let nextSpId = 1;
const statusCache = new Map(); // pipeline id -> {updated, status}

// ---- the wire ----------------------------------------------------------------------

function wsUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

function type(name) { return proto.lookupType("oj." + name); }

// A 52-bit random request id: unique enough per request, and exact as a JS number.
function requestId() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return (a[0] & 0xfffff) * 0x100000000 + a[1] + 1;
}

// Calls rpc `method` of oj.Control with a plain request object; resolves to the decoded
// response object, rejects with an Error naming the status.
function rpc(method, request) {
  const svc = proto.lookupService("oj.Control");
  const m = svc.methods[method];
  if (!m) return Promise.reject(new Error("no rpc " + method));
  m.resolve();
  const reqType = m.resolvedRequestType, respType = m.resolvedResponseType;
  const payload = reqType.encode(reqType.fromObject(request || {})).finish();
  const frame = type("RequestFrame").encode({
    method, request_id: requestId(), payload, client_version: "dashboard",
  }).finish();
  return new Promise((resolve, reject) => {
    if (!rpcSocket || rpcSocket.readyState !== WebSocket.OPEN) {
      reject(new Error("not connected"));
      return;
    }
    const id = nextSpId;
    nextSpId = nextSpId >= 0x7fffffff ? 1 : nextSpId + 1;
    const msg = new Uint8Array(4 + frame.length);
    new DataView(msg.buffer).setUint32(0, (0x80000000 | id) >>> 0);
    msg.set(frame, 4);
    pending.set(id, {
      resolve: (reply) => {
        if (reply.status !== 0) {
          const name = proto.lookupEnum("oj.StatusCode").valuesById[reply.status];
          reject(new Error(method + ": " + (name || reply.status) + ": " + reply.message));
        } else {
          resolve(respType.toObject(respType.decode(reply.payload), { defaults: true }));
        }
      },
      reject,
    });
    rpcSocket.send(msg);
  });
}

function onRpcMessage(ev) {
  const bytes = new Uint8Array(ev.data);
  if (bytes.length < 4) return;
  const id = new DataView(ev.data).getUint32(0) & 0x7fffffff;
  const p = pending.get(id);
  if (!p) return; // an answer to a request we gave up on
  pending.delete(id);
  try {
    p.resolve(type("ReplyFrame").decode(bytes.subarray(4)));
  } catch (e) {
    p.reject(e);
  }
}

function onPubMessage(ev) {
  const bytes = new Uint8Array(ev.data);
  // The topic ends at the first '/' for ev/ and hb/, at the second for out/<id>/.
  let end = bytes.indexOf(0x2f);
  if (end < 0) return;
  const head = new TextDecoder().decode(bytes.subarray(0, end));
  if (head === "out") {
    end = bytes.indexOf(0x2f, end + 1);
    if (end < 0) return;
  } else if (head !== "ev" && head !== "hb") {
    return;
  }
  const frame = type("PubFrame").toObject(type("PubFrame").decode(bytes.subarray(end + 1)),
                                          { defaults: true });
  if (frame.event) onEvent(frame.event);
  else if (frame.chunk) onChunk(frame.chunk);
}

let retryMs = 500;
// Opens both websockets; when either closes, both are closed and opened again (with a
// growing delay): a fresh start re-reads everything, the terminal resumes at its offset.
async function connect() {
  let ep;
  try {
    const r = await fetch("/api/endpoints", { credentials: "same-origin" });
    if (r.status === 401) {
      setConn("denied", "not authorized: open the URL `oj dashboard` printed (with its token)");
      return;
    }
    if (!r.ok) throw new Error("/api/endpoints: HTTP " + r.status);
    ep = await r.json();
  } catch (e) {
    return reconnectLater(e.message);
  }
  const rpcWs = new WebSocket(wsUrl(ep.rpc), "rep.sp.nanomsg.org");
  const evWs = new WebSocket(wsUrl(ep.events), "pub.sp.nanomsg.org");
  rpcWs.binaryType = evWs.binaryType = "arraybuffer";
  let opened = 0, down = false;
  const up = () => {
    if (++opened < 2) return;
    retryMs = 500;
    rpcSocket = rpcWs;
    setConn("open", "connected");
    refresh();
    if (terminal.sid) openTerminal(terminal.sid, true);
  };
  const lost = () => {
    if (down) return;
    down = true;
    rpcSocket = null;
    for (const p of pending.values()) p.reject(new Error("connection lost"));
    pending.clear();
    rpcWs.close();
    evWs.close();
    reconnectLater("connection lost");
  };
  rpcWs.onopen = evWs.onopen = up;
  rpcWs.onclose = evWs.onclose = rpcWs.onerror = evWs.onerror = lost;
  rpcWs.onmessage = onRpcMessage;
  evWs.onmessage = onPubMessage;
}

function reconnectLater(why) {
  setConn("closed", why + "; retrying");
  setTimeout(connect, retryMs);
  retryMs = Math.min(retryMs * 2, 10000);
}

function setConn(state, text) {
  const c = $("#conn");
  c.dataset.state = state;
  c.textContent = text;
}

function showMessage(text, error) {
  const m = $("#message");
  m.hidden = !text;
  m.textContent = text || "";
  m.className = error ? "error" : "";
}

// ---- tables --------------------------------------------------------------------------

let refreshing = false, refreshAgain = false;

// Re-queries everything; while a round runs, further calls make one more round after it.
async function refresh() {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    do {
      refreshAgain = false;
      await refreshOnce();
    } while (refreshAgain);
  } catch (e) {
    showMessage(e.message, true);
  } finally {
    refreshing = false;
  }
}

async function refreshOnce() {
  const [list, sessions, locks, status] = await Promise.all([
    rpc("PipelineList", {}), rpc("SessionList", {}), rpc("LockList", {}), rpc("Status", {}),
  ]);
  $("#daemon").textContent = "daemon " + status.version + ", pid " + status.pid +
    ", " + status.active_pipelines + " active pipelines, " + status.active_sessions + " sessions";
  const pipelines = list.pipelines.slice().sort((a, b) => b.created_at_ms - a.created_at_ms);
  renderPipelines(pipelines); // the rows first (from the list), the details as they come
  renderSessions(sessions.sessions);
  renderLocks(locks.locks, status.waiting);
  // PipelineStatus for each pipeline that is active or changed since we last asked.
  const want = pipelines.filter((p) => {
    const c = statusCache.get(p.id);
    return !c || c.updated !== p.updated_at_ms || !FINISHED.has(p.state);
  });
  const live = new Set(pipelines.map((p) => p.id));
  for (const id of statusCache.keys()) if (!live.has(id)) statusCache.delete(id);
  await Promise.all(want.map(async (p) => {
    try {
      const st = await rpc("PipelineStatus", { id: p.id });
      statusCache.set(p.id, { updated: p.updated_at_ms, status: st });
    } catch (e) {
      statusCache.delete(p.id); // gone meanwhile (archived): the next round drops its row
    }
  }));
  renderPipelines(pipelines);
  if (!terminal.sid) {
    const first = sessions.sessions.find((s) => s.state !== "dead");
    if (first) openTerminal(first.id);
  }
}

function ago(ms) {
  if (!ms || ms < 0) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function button(td, action, label, run) {
  const b = document.createElement("button");
  b.dataset.action = action;
  b.textContent = label;
  b.addEventListener("click", (ev) => { ev.stopPropagation(); run(); });
  td.appendChild(b);
}

// Replaces tbody's rows (keyed by `key`) with the ones built for `items`, keeping nothing
// stale; rows are rebuilt whole, which is cheap at these sizes and keeps the code short.
function fill(tbody, items, build) {
  const frag = document.createDocumentFragment();
  for (const it of items) frag.appendChild(build(it));
  tbody.replaceChildren(frag);
}

function renderPipelines(pipelines) {
  fill($("#pipelines"), pipelines, (p) => {
    const st = (statusCache.get(p.id) || {}).status || {};
    const tr = document.createElement("tr");
    tr.dataset.pipelineId = p.id;
    tr.dataset.state = p.state;
    cell(tr, p.id, "id");
    cell(tr, p.name, "name");
    cell(tr, p.phase, "phase");
    cell(tr, st.step, "step");
    cell(tr, p.state, "state");
    const agent = cell(tr, st.agent_state, "agent");
    agent.dataset.state = st.agent_state || "";
    if (st.agent_prompt) agent.title = st.agent_prompt;
    cell(tr, st.session_id ? ago(st.idle_ms) : "", "idle");
    cell(tr, st.waiting_for_lock, "lock-wait");
    cell(tr, st.last_error, "error");
    const td = cell(tr, "", "actions");
    if (st.session_id) {
      button(td, "view", "terminal", () => openTerminal(st.session_id));
      if (st.session_id === terminal.sid) tr.classList.add("selected");
    }
    if (!FINISHED.has(p.state)) {
      button(td, "nudge", "nudge", () => nudge("PipelineNudge", "pipeline", p.id));
      button(td, "restart", "restart", () => act("PipelineRestart", { id: p.id },
        "Restart the current phase of pipeline " + p.id + " (a new agent session)?"));
      button(td, "cancel", "cancel", () => act("PipelineCancel", { id: p.id },
        "Cancel pipeline " + p.id + "? Its agent is ended and its lock let go."));
    }
    if (p.state === "escalated" || p.state === "failed") {
      button(td, "resume", "resume", () => act("PipelineResume", { id: p.id },
        "Resume pipeline " + p.id + " at phase " + p.phase + "?"));
    }
    return tr;
  });
}

function renderSessions(sessions) {
  const shown = sessions.slice().sort((a, b) =>
    (a.state === "dead") - (b.state === "dead") || b.started_at_ms - a.started_at_ms);
  fill($("#sessions"), shown, (s) => {
    const tr = document.createElement("tr");
    tr.dataset.sessionId = s.id;
    tr.dataset.state = s.state;
    if (s.id === terminal.sid) tr.classList.add("selected");
    cell(tr, s.id, "id");
    cell(tr, s.name, "name");
    cell(tr, s.pipeline_id, "pipeline");
    cell(tr, s.phase, "phase");
    const state = cell(tr, s.state, "state");
    if (s.prompt) state.title = s.prompt;
    cell(tr, s.state === "dead" ? "" : ago(s.idle_ms), "idle");
    const td = cell(tr, "", "actions");
    button(td, "view", "terminal", () => openTerminal(s.id));
    if (s.state !== "dead") button(td, "nudge", "nudge", () => nudge("SessionNudge", "session", s.id));
    tr.addEventListener("click", () => openTerminal(s.id));
    return tr;
  });
}

function renderLocks(locks, waiting) {
  fill($("#locks"), locks, (l) => {
    const tr = document.createElement("tr");
    tr.dataset.lockName = l.name;
    tr.dataset.stale = String(l.stale);
    cell(tr, l.name, "name");
    const holder = cell(tr, l.held ? l.holder + (l.stale ? " (stale)" : "") : "(free)", "holder");
    if (l.holder_pid) holder.title = "pid " + l.holder_pid + " on " + l.host;
    cell(tr, l.held ? ago(Date.now() - l.since_ms) : "", "since");
    cell(tr, waiting.filter((w) => w.lock === l.name).map((w) => w.pipeline_id).join(" "),
         "waiters");
    const td = cell(tr, "", "actions");
    if (l.held) {
      button(td, "release", "force release", () => act("LockRelease",
        { name: l.name, holder: "", force: true },
        "Force-release lock " + l.name + " held by " + l.holder + "?"));
    }
    return tr;
  });
}

// ---- actions -------------------------------------------------------------------------

async function act(method, request, question) {
  if (!window.confirm(question)) return;
  try {
    const r = await rpc(method, request);
    showMessage(r.message || method + ": done", false);
  } catch (e) {
    showMessage(e.message, true);
  }
  refresh();
}

function nudge(method, what, id) {
  const message = $("#nudge-message").value;
  act(method, { id, message }, "Nudge " + what + " " + id +
      (message ? " with \"" + message + "\"?" : " with its runbook's nudge?"));
}

// ---- events --------------------------------------------------------------------------

function onEvent(e) {
  const li = document.createElement("li");
  li.dataset.seq = String(e.seq);
  li.dataset.kind = e.kind;
  const t = new Date(e.time_ms).toLocaleTimeString();
  li.textContent = [t, e.kind, e.pipeline_id, e.session_id, e.phase, e.message]
    .filter((x) => x).join("  ");
  const list = $("#events");
  list.insertBefore(li, list.firstChild);
  while (list.children.length > EVENTS_KEPT) list.lastChild.remove();
  refresh();
}

// ---- the terminal ----------------------------------------------------------------------
// The session's log is its raw terminal output. We start with its last bytes (a range
// SessionCapture), then write each out/<id>/ chunk in order: a chunk whose bytes we have
// is skipped (or its new tail written), and a gap before a chunk is fetched by range first.

const terminal = { sid: null, xterm: null, have: null, queue: [], busy: false, gen: 0 };

async function openTerminal(sid, resume) {
  if (!terminal.xterm) {
    terminal.xterm = new Terminal({ convertEol: false, scrollback: 5000, fontSize: 12 });
    terminal.xterm.open($("#terminal"));
  }
  if (terminal.sid === sid && !resume && terminal.have !== null) return;
  const gen = ++terminal.gen;
  if (terminal.sid !== sid) {
    terminal.xterm.reset();
    terminal.have = null;
  }
  terminal.sid = sid;
  terminal.queue = [];
  $("#terminal-session").textContent = sid;
  $("#terminal").dataset.sessionId = sid;
  for (const tr of document.querySelectorAll("tr.selected")) tr.classList.remove("selected");
  for (const tr of document.querySelectorAll("[data-session-id=\"" + CSS.escape(sid) + "\"]"))
    tr.classList.add("selected");
  try {
    if (terminal.have === null) {
      const screen = await rpc("SessionCapture", { id: sid });
      if (gen !== terminal.gen) return;
      const end = Number(screen.log_offset);
      // `have` stays null until the range is written: chunks arriving meanwhile wait in
      // the queue and carry on from the range's end.
      await fetchRange(gen, Math.max(0, end - TERMINAL_TAIL_BYTES), end);
    } else {
      const from = terminal.have; // back after a lost connection: catch up from there
      terminal.have = null;
      await fetchRange(gen, from, 0);
    }
    pump(gen);
  } catch (e) {
    if (gen === terminal.gen) showMessage("terminal " + sid + ": " + e.message, true);
  }
}

// Writes bytes [from, to) of the session's log (to 0: its end) and advances `have`.
async function fetchRange(gen, from, to) {
  if (to !== 0 && to <= from) {
    terminal.have = from;
    return;
  }
  const r = await rpc("SessionCapture",
                      { id: terminal.sid, range: true, from_offset: from, to_offset: to });
  if (gen !== terminal.gen) return;
  terminal.xterm.write(r.data);
  terminal.have = from + r.data.length;
}

function onChunk(c) {
  if (c.session_id !== terminal.sid) return;
  terminal.queue.push(c);
  pump(terminal.gen);
}

async function pump(gen) {
  if (terminal.busy || terminal.have === null) return;
  terminal.busy = true;
  try {
    while (gen === terminal.gen && terminal.queue.length) {
      const c = terminal.queue.shift();
      const off = Number(c.offset), end = off + c.data.length;
      if (end <= terminal.have) continue; // we have these bytes already
      if (off > terminal.have) {
        await fetchRange(gen, terminal.have, off); // missed chunks: fetch the gap
        if (gen !== terminal.gen) break;
        if (terminal.have < off) terminal.have = off; // the log holds no more than that
      }
      terminal.xterm.write(c.data.subarray(terminal.have - off));
      terminal.have = end;
    }
  } catch (e) {
    showMessage("terminal " + terminal.sid + ": " + e.message, true);
  } finally {
    terminal.busy = false;
  }
  // A newer open (another session, or a reconnect) came while we waited: carry on with it.
  if (gen !== terminal.gen) pump(terminal.gen);
}

// ---- start ---------------------------------------------------------------------------

async function main() {
  try {
    proto = await new protobuf.Root().load(["/proto/wire.proto", "/proto/oj.proto"],
                                           { keepCase: true });
  } catch (e) {
    setConn("closed", "cannot load the protocol: " + e.message);
    return;
  }
  connect();
}

main();
