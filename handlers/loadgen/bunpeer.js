// The Bun peer of the load generator: Bun's own pub/sub (uWebSockets) with
// nothing stored and nothing rendered, as the bare Go hub does. Every socket
// of /rooms/{slug}/ws subscribes to the room's topic; each composer frame's
// body is published, escaped, as <div id="message-N">, to every socket of
// the room (its sender's too). loadgen runs it as `bun bunpeer.js` with the
// address to listen on in BUN_PEER_ADDR, and waits for GET /healthz.
const [hostname, port] = (process.env.BUN_PEER_ADDR || "127.0.0.1:8090").split(":");
const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };
const escape = (s) => s.replace(/[&<>"']/g, (c) => escapes[c]);
let next = 0;

const server = Bun.serve({
  hostname,
  port: Number(port),
  fetch(req, server) {
    const path = new URL(req.url).pathname;
    if (path === "/healthz") return new Response("ok");
    const m = path.match(/^\/rooms\/([^/]+)\/ws$/);
    if (m && server.upgrade(req, { data: { topic: m[1] } })) return;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 0, // the load generator's sockets may sit quiet: keep them
    open(ws) {
      ws.subscribe(ws.data.topic);
    },
    message(ws, data) {
      let f;
      try {
        f = JSON.parse(data);
      } catch {
        return;
      }
      if (!f || typeof f.body !== "string" || !f.HEADERS || f.HEADERS["HX-Trigger"] !== "composer") return;
      next++;
      server.publish(ws.data.topic, `<div id="message-${next}">${escape(f.body)}</div>`);
    },
  },
});
console.log(`bun peer listening on ${server.hostname}:${server.port}`);
