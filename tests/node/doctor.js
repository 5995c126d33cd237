// Deployments for `realtime-tutor doctor`: each one a configuration people really run, healthy or
// with one thing wrong, which the doctor must name.
//
//   node tests/node/doctor.js <config> <port>
//
// Listens on 127.0.0.1 (port 0 lets the system pick one) and prints the port it got as the first
// line of stdout.
//
// - healthy:  socket.io 4.8.4 with CORS for http://example.com (credentials allowed).
// - nocors:   socket.io 4.8.4 with no `cors` option: a page on another origin cannot read it.
// - path:     socket.io 4.8.4 mounted at `path: '/chat/'` instead of /socket.io/.
// - polling:  socket.io 4.8.4 with `transports: ['polling']`: WebSocket is switched off.
// - websocket: socket.io 4.8.4 with `transports: ['websocket']`: long-polling is switched off.
// - auth:     socket.io 4.8.4 with a middleware that refuses every connection without a token.
// - v2:       socket.io 2.5.1 (Engine.IO 3), installed under the alias socket.io-v2.
// - ws:       a plain WebSocket server (the `ws` package socket.io itself is built on), which
//             greets each connection with a text frame: no Socket.IO at all.

const { createServer } = require('node:http');

const origin = 'http://example.com';
const configs = {
  healthy: { cors: { origin, credentials: true } },
  nocors: {},
  path: { path: '/chat/', cors: { origin, credentials: true } },
  polling: { transports: ['polling'], cors: { origin, credentials: true } },
  websocket: { transports: ['websocket'] },
  auth: { cors: { origin, credentials: true } },
};

const [config, portText = '0'] = process.argv.slice(2);
if (!(config in configs) && config !== 'v2' && config !== 'ws') {
  console.error(`unknown config ${config}; one of: ${Object.keys(configs).join(', ')}, v2, ws`);
  process.exit(2);
}

if (config === 'ws') {
  // Standalone, as its README starts: it answers a plain GET with 426 Upgrade Required.
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(portText) });
  wss.on('connection', (ws) => ws.send('hello from ws'));
  wss.on('listening', () => console.log(wss.address().port));
  return;
}

const server = createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not Found');
});

let io;
if (config === 'v2') {
  io = require('socket.io-v2')(server);
} else {
  const { Server } = require('socket.io');
  io = new Server(server, configs[config]);
}
if (config === 'auth') {
  io.use((socket, next) => {
    if (socket.handshake.auth.token !== 'letmein') {
      const error = new Error('not authorized');
      error.data = { hint: 'send auth.token' };
      return next(error);
    }
    next();
  });
}
io.on('connection', (socket) => {
  socket.emit('welcome', 'hello');
});

server.listen(Number(portText), '127.0.0.1', () => {
  console.log(server.address().port);
});
