// A crowd of light Socket.IO clients: raw engine.io v4 over websocket (ws), one socket.io
// connect each, pings answered, every event's arrival time kept. Plus `real` socket.io-client
// v4 clients (default transports: polling, then websocket) that count their events.
//
//   node crowd.js <ws url of the engine.io endpoint> <token> <clients> <real> <out.json>
//
// Prints "connected N" once every client has its socket.io session, then waits for SIGTERM
// (or for a job:completed/failed/cancelled to reach every client when told to with DONE=1),
// and writes {arrivals: {"<event> <rows>": [t, ...]}, realCounts: [...], errors} to out.json.
const WebSocket = require("ws");
const { io } = require("socket.io-client");
const fs = require("fs");
const { performance } = require("perf_hooks");

const [url, token, clients, real, out] = process.argv.slice(2);
const now = () => (performance.timeOrigin + performance.now()) / 1000;
const arrivals = new Map();
const finals = { count: 0 };
let connected = 0;
let errors = 0;

function record(event, payload) {
  const key = `${event} ${payload.processedRows ?? ""}`;
  let list = arrivals.get(key);
  if (!list) arrivals.set(key, (list = []));
  list.push(now());
  if (event !== "job:progress") finals.count += 1;
}

function light(i) {
  const ws = new WebSocket(`${url}?EIO=4&transport=websocket`, { perMessageDeflate: false });
  ws.on("message", (data) => {
    const text = data.toString();
    if (text[0] === "0") ws.send(`40${JSON.stringify({ token })}`);
    else if (text === "2") ws.send("3");
    else if (text.startsWith("40")) connected += 1;
    else if (text.startsWith("44")) errors += 1;
    else if (text.startsWith("42")) {
      const [event, payload] = JSON.parse(text.slice(2));
      record(event, payload);
    }
  });
  ws.on("error", () => { errors += 1; });
}

const realCounts = [];
function realClient(i) {
  const parsed = new URL(url.replace(/^ws/, "http"));
  const counts = { events: 0 };
  realCounts.push(counts);
  const socket = io(parsed.origin, { path: parsed.pathname, auth: { token }, reconnection: false });
  socket.on("connect", () => { connected += 1; });
  socket.on("connect_error", () => { errors += 1; });
  for (const name of ["job:progress", "job:completed", "job:failed", "job:cancelled"]) {
    socket.on(name, (payload) => { counts.events += 1; record(name, payload); });
  }
}

const total = Number(clients) + Number(real);
for (let i = 0; i < Number(clients); i++) setTimeout(() => light(i), Math.floor(i / 50) * 20);
for (let i = 0; i < Number(real); i++) realClient(i);
const ready = setInterval(() => {
  if (connected >= total) {
    clearInterval(ready);
    console.log(`connected ${connected}`);
  }
}, 50);

function finish() {
  const obj = {};
  for (const [k, v] of arrivals) obj[k] = v;
  fs.writeFileSync(out, JSON.stringify({ arrivals: obj, realCounts: realCounts.map((c) => c.events), errors, connected }));
  process.exit(0);
}
process.on("SIGTERM", finish);
if (process.env.DONE) setInterval(() => { if (finals.count >= total) finish(); }, 100);
