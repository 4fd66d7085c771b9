// The peer: a minimal Node socket.io v4 server doing nbjobs' fan-out: every client joins one
// room (token in the auth payload), and `events` job:progress events then a job:completed are
// emitted to it at `rate` per second, each emit's time logged as nbjobs logs its own.
//
//   node peer.js <port> <token> <events> <rate>
// Prints "listening", then "emit <event> job=1 rows=<n> at <epoch seconds>" per emit; starts
// emitting when it reads a line on stdin; prints "done" after the last.
const http = require("http");
const { Server } = require("socket.io");
const { performance } = require("perf_hooks");

const [port, token, events, rate] = process.argv.slice(2);
const server = http.createServer();
const sio = new Server(server, { path: "/socket.io/", perMessageDeflate: false, serveClient: false });
sio.use((socket, next) => (socket.handshake.auth.token === token ? next() : next(new Error("auth"))));
sio.on("connection", (socket) => socket.join("user:bench"));
const now = () => (performance.timeOrigin + performance.now()) / 1000;
server.listen(Number(port), "127.0.0.1", () => console.log("listening"));
process.stdin.once("data", () => {
  let n = 0;
  const total = Number(events);
  const timer = setInterval(() => {
    n += 1;
    const rows = n * 100;
    const last = n >= total;
    const name = last ? "job:completed" : "job:progress";
    const payload = last
      ? { jobId: 1, status: "completed", processedRows: rows, validRows: rows, invalidRows: 0, outputFileUrl: "/x" }
      : { jobId: 1, processedRows: rows, validRows: rows, invalidRows: 0, totalRows: total * 100, progress: Math.floor((100 * n) / total) };
    console.log(`emit ${name} job=1 rows=${rows} at ${now().toFixed(6)}`);
    sio.to("user:bench").emit(name, payload);
    if (last) { clearInterval(timer); console.log("done"); }
  }, 1000 / Number(rate));
});
