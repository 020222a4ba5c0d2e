// The Node peer of bench/bench_live.py's bare python-socketio server: the same /live namespace,
// join and chat events and message shape, one process, rooms shared through Redis (the
// socket.io Redis adapter, as python-socketio's RedisManager shares them). Usage:
//   node server.js PORT REDIS_URL
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");

const port = Number(process.argv[2]);
const redisUrl = process.argv[3] || "redis://127.0.0.1:6379/13";

async function main() {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const server = http.createServer();
  const io = new Server(server, { adapter: createAdapter(pub, sub), cors: { origin: false } });
  const live = io.of("/live");
  let counter = 0;
  live.on("connection", (socket) => {
    socket.on("join", (data, ack) => {
      socket.join("lecture:" + data.lecture_id);
      if (ack) ack({ ok: true });
    });
    socket.on("chat", (data, ack) => {
      counter += 1;
      const body = {
        id: counter, kind: "chat", text: data.text, author: { id: 1, name: "张专家" },
        upvotes: 0, poll_id: null, deleted: false, created_at: new Date().toISOString(),
      };
      live.to("lecture:1").emit("chat", body);
      if (ack) ack({ ok: true, message: body });
    });
  });
  server.listen(port, "127.0.0.1");
}

main().catch((error) => { console.error(error); process.exit(1); });
