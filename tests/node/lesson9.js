// Lesson 9's servers ("Why it does not connect"), with the real socket.io 4.8.4: each stage
// configured the way that makes a connection fail, and, with --fixed, the way that fixes it.
// Each configuration is the one in `lessons/09-connect-failures/stage-K.js`.
//
//   node tests/node/lesson9.js --stage N [--fixed] [--port P]
//
// Listens on 127.0.0.1 (port 0, the default, lets the system pick) and prints, as the first line of
// stdout, the port a client connects to (for stage 4 the proxy's). The second line is JSON naming
// every port opened: {"ready":true,"server":P,"page":P,"proxy":P} (page for stage 1, proxy for
// stage 4). Every later line is one JSON object per thing the server saw, for example
//   {"server":"connection_error","code":5,"message":"Unsupported protocol version",...}
//   {"server":"disconnect","reason":"ping timeout","transport":"websocket","ms":501}
// (`ms`: since that connection's Engine.IO handshake, on the server's clock)
// which is what `tests/node/lesson9-client.js` reports next to what the client saw.
//
// 1. CORS: no `cors` option; --fixed allows the page's origin. A second port serves the page (another
//    origin) that connects with socket.io-client 4.8.4: `GET /` on the page port (`/?transport=websocket`
//    for a client that skips long-polling).
// 2. Path: the default path /socket.io/ (the client asks for /realtime/); --fixed: path /realtime/.
// 3. Engine.IO 3 (a Socket.IO 2 client): refused; --fixed: allowEIO3.
// 4. A forwarding proxy in front that drops the Upgrade header; --fixed: it forwards the upgrade.
// 5. maxHttpBufferSize 1e3 and an echo of 'chat message'; --fixed: 1e5.
// 6. pingInterval 300 ms, pingTimeout 200 ms (the client stops answering pings).
// 7. Handlers registered after an `await` in the connection handler; --fixed: before it.
// 8. A chat (io.emit of 'chat message'): the duplicates are the client's doing, the server is the
//    same either way.

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { Server } = require('socket.io');

const HOST = '127.0.0.1';

function usage(message) {
  console.error(`${message}\nusage: node lesson9.js --stage N [--fixed] [--port P]   (N in 1..8)`);
  process.exit(2);
}

const args = process.argv.slice(2);
let stage = null;
let fixed = false;
let port = 0;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--stage') stage = Number(args[++i]);
  else if (args[i] === '--fixed') fixed = true;
  else if (args[i] === '--port') port = Number(args[++i]);
  else usage(`unknown argument ${args[i]}`);
}
if (!Number.isInteger(stage) || stage < 1 || stage > 8) usage('--stage must be 1 to 8');
if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port must be 0 to 65535');

const log = (line) => console.log(JSON.stringify({ server: line.kind, ...line, kind: undefined }));

/** Resolves with the port once `server` listens. */
const listen = (server, p = 0) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, HOST, () => resolve(server.address().port));
  });

// Every request socket.io does not take ends here: a 404, logged, as an unknown path gets.
const httpServer = http.createServer((req, res) => {
  log({ kind: 'http', status: 404, method: req.method, url: req.url });
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not Found');
});

/** The options of `new Server(httpServer, options)` for this stage (see stage-K.js). */
function options(pagePort) {
  switch (stage) {
    case 1:
      return fixed ? { cors: { origin: `http://${HOST}:${pagePort}` } } : {};
    case 2:
      return fixed ? { path: '/realtime/' } : {};
    case 3:
      return fixed ? { allowEIO3: true } : {};
    case 5:
      return { maxHttpBufferSize: fixed ? 1e5 : 1e3 };
    case 6:
      return { pingInterval: 300, pingTimeout: 200 };
    default:
      return {};
  }
}

/** When each Engine.IO connection opened (its handshake), by connection. */
const opened = new WeakMap();

/** What the server saw, whatever the stage: refused requests, connections, upgrades, disconnects. */
function observe(io) {
  io.engine.on('connection_error', (e) => {
    log({ kind: 'connection_error', code: e.code, message: e.message, context: e.context, url: e.req.url });
  });
  io.engine.on('connection', (conn) => {
    // The server's own clock for this connection: `ms` in the lines below counts from here.
    opened.set(conn, Date.now());
    log({ kind: 'engine_open', transport: conn.transport.name, protocol: conn.protocol });
    conn.on('upgrade', (transport) => log({ kind: 'upgrade', transport: transport.name }));
    conn.on('close', (reason, description) => {
      const ms = Date.now() - opened.get(conn);
      log({ kind: 'engine_close', reason, description: description?.message ?? description, ms });
    });
  });
  // The fixture's own observer, registered before the stage's handler: it sees every event packet
  // that arrives, whether or not the application has a handler for it yet (stage 7).
  io.use((socket, next) => {
    socket.onAny((event, ...rest) => {
      const args = rest.map((a) => (typeof a === 'string' && a.length > 40 ? `<${a.length} characters>` : a));
      log({ kind: 'packet', event, args });
    });
    next();
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The application: each stage's handlers, as in stage-K.js. */
function application(io) {
  io.on('connection', async (socket) => {
    const transport = socket.conn.transport.name;
    log({ kind: 'connection', id: socket.id, transport });
    socket.on('disconnect', (reason) => {
      const ms = Date.now() - opened.get(socket.conn);
      log({ kind: 'disconnect', id: socket.id, reason, transport: socket.conn.transport.name, ms });
    });
    if (stage === 7) {
      // stage-7.js: the handler comes after an await (here 200 ms, a slow database lookup's worth).
      if (fixed) socket.on('chat message', (msg) => socket.emit('chat message', msg));
      const user = await sleep(200).then(() => ({ name: 'alice' }));
      socket.data.user = user;
      if (!fixed) socket.on('chat message', (msg) => socket.emit('chat message', msg));
      return;
    }
    socket.on('chat message', (msg) => {
      // Stage 5 answers the sender only; stage 8's chat, everyone.
      if (stage === 8) io.emit('chat message', msg);
      else socket.emit('chat message', msg);
    });
  });
}

// Stage 1's page: another origin (another port) serving a page that connects to the server.
function pageServer(serverPort) {
  const client = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist/socket.io.min.js');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>lesson 9.1</title><link rel="icon" href="data:,"></head>
<body><pre id="out">waiting</pre>
<script src="/socket.io.min.js"></script>
<script>
  // What the page's socket.io-client reports: the first connect or connect_error.
  const started = performance.now();
  // ?transport=websocket opens a WebSocket at once, as io(url, { transports: ['websocket'] }).
  const only = new URLSearchParams(location.search).get('transport');
  const socket = io('http://${HOST}:${serverPort}', only ? { transports: [only] } : {});
  const done = (report) => {
    report.ms = Math.round(performance.now() - started);
    report.active = socket.active;
    window.lessonReport = report;
    document.getElementById('out').textContent = JSON.stringify(report);
    socket.disconnect();
  };
  socket.on('connect', () => done({ connected: true, transport: socket.io.engine.transport.name }));
  socket.on('connect_error', (err) => done({
    connect_error: { message: err.message, description: err.description, type: err.type },
  }));
</script></body></html>`;
  return http.createServer((req, res) => {
    if (req.url === '/socket.io.min.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript' });
      fs.createReadStream(client).pipe(res);
    } else if (req.url === '/' || req.url.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    } else {
      res.writeHead(404).end();
    }
  });
}

// Stage 4's reverse proxy. It forwards each request as a new one to the backend, and drops the
// hop-by-hop headers (Connection, Upgrade) as HTTP says a proxy must: a WebSocket request then
// reaches the server as a plain GET. nginx without `proxy_set_header Upgrade` does the same. The
// fixed proxy handles 'upgrade' itself: it opens a raw connection to the backend, replays the
// request with its Upgrade header, and pipes both ways.
const HOP_BY_HOP = ['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer'];

function proxyServer(backendPort) {
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const request = { host: HOST, port: backendPort, method: req.method, path: req.url, headers };
    const upstream = http.request(request, (answer) => {
      const back = { ...answer.headers };
      for (const h of HOP_BY_HOP) delete back[h];
      res.writeHead(answer.statusCode, back);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  if (fixed) {
    proxy.on('upgrade', (req, socket, head) => {
      const backend = net.connect(backendPort, HOST, () => {
        let request = `${req.method} ${req.url} HTTP/1.1\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          request += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
        }
        backend.write(request + '\r\n');
        backend.write(head);
        socket.pipe(backend).pipe(socket);
      });
      const end = () => {
        socket.destroy();
        backend.destroy();
      };
      backend.on('error', end);
      socket.on('error', end);
    });
  }
  return proxy;
}

async function main() {
  const ports = { ready: true };
  let page = null;
  if (stage === 1) {
    // The page's port is chosen first: the fixed server's CORS option names its origin.
    page = http.createServer();
    ports.page = await listen(page);
  }
  const io = new Server(httpServer, options(ports.page));
  observe(io);
  application(io);
  ports.server = await listen(httpServer, stage === 4 ? 0 : port);
  let first = ports.server;
  if (stage === 1) {
    const handler = pageServer(ports.server).listeners('request')[0];
    page.on('request', handler);
  }
  if (stage === 4) {
    ports.proxy = await listen(proxyServer(ports.server), port);
    first = ports.proxy;
  }
  console.log(first);
  console.log(JSON.stringify(ports));
}

main().catch((e) => {
  console.error(`lesson9.js: ${e.message}`);
  process.exit(1);
});
