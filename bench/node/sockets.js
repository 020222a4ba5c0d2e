// A load generator of bench/bench_live_scale.py: COUNT raw Engine.IO websockets to BASE (through
// nginx), each signed in with one of the tokens (one a line in TOKENS_FILE, round robin) and
// joined to LECTURE_ID in the /live namespace, CONCURRENCY opening at once. It prints
// {"sockets", "failed", "failure"} once all are open (or failed), then notes when each `poll` and
// `poll_summary` event arrives; on SIGUSR1 it prints them ([event, poll id, open, unix seconds])
// and exits. Usage:
//   node sockets.js BASE TOKENS_FILE LECTURE_ID COUNT CONCURRENCY
"use strict";
const fs = require("fs");
const { performance } = require("perf_hooks");
const WebSocket = require("ws");

const [base, tokensFile, lectureId, count, concurrency] = process.argv.slice(2);
const tokens = fs.readFileSync(tokensFile, "utf8").split("\n").filter(Boolean);
const url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket";
const NS = "/live";
const PUSHED = `42${NS},`;
const arrivals = [];
const sockets = [];
let failed = 0;
let failure = null;

function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function open(n) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let joined = false;
    const fail = (why) => {
      if (joined) return;
      joined = true; // settled
      failed += 1;
      failure = failure || String(why);
      ws.terminate();
      resolve();
    };
    const timer = setTimeout(() => fail("timed out"), 300000);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") {
        ws.send("3");
      } else if (text.startsWith(PUSHED + '["poll"') || text.startsWith(PUSHED + '["poll_summary"')) {
        const at = now();
        const [event, body] = JSON.parse(text.slice(PUSHED.length));
        arrivals.push([event, body.id, body.is_open, at]);
      } else if (text.startsWith("0")) {
        ws.send(`40${NS},` + JSON.stringify({ token: tokens[n % tokens.length] }));
      } else if (text.startsWith(`40${NS},`)) {
        ws.send(`42${NS},1` + JSON.stringify(["join", { lecture_id: Number(lectureId) }]));
      } else if (text.startsWith(`44${NS},`)) {
        clearTimeout(timer);
        fail(text);
      } else if (text.startsWith(`43${NS},1`)) {
        clearTimeout(timer);
        const reply = JSON.parse(text.slice(`43${NS},1`.length))[0];
        if (!reply || !reply.ok) return fail(text.slice(0, 200));
        joined = true;
        sockets.push(ws);
        resolve();
      }
    });
    ws.on("error", (error) => { clearTimeout(timer); fail(error.message); });
    ws.on("close", () => { clearTimeout(timer); fail("closed"); });
  });
}

async function main() {
  let next = 0;
  const lane = async () => {
    while (next < Number(count)) {
      const n = next;
      next += 1;
      await open(n);
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, lane));
  process.stdout.write(JSON.stringify({ sockets: sockets.length, failed, failure }) + "\n");
}

process.on("SIGUSR1", () => {
  process.stdout.write(JSON.stringify(arrivals) + "\n", () => process.exit(0));
});
main().catch((error) => { console.error(error); process.exit(1); });
