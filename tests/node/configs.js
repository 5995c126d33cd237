// Real-world configurations of Node's socket.io, for the simulated client's conformance tests.
//
//   node tests/node/configs.js <config> <port>
//
// Starts one server on 127.0.0.1 (port 0 lets the system pick a free one) and prints the port it
// got as the first line of stdout. Every configuration answers the same two things, so one test
// can drive them all: it greets each newcomer with `socket.emit('welcome', ...)` and echoes every
// 'chat message' to everyone with `io.emit`. What differs is one option or feature each, all of
// them legal and common, which a client must cope with:
//
// - default:   new Server(server), nothing else.
// - recovery:  { connectionStateRecovery: {} }: a `pid` in the CONNECT reply, an offset appended
//              to every packet io.emit sends.
// - polling:   { transports: ['polling'] }: no WebSocket at all ("upgrades": []).
// - cors:      CORS for another origin, and a middleware (io.use) that wants an auth token and
//              greets from inside the middleware, before the CONNECT reply.
// - binary:    'send file' is answered with a Buffer, which travels as a binary attachment.

const { createServer } = require('node:http');
const { Server } = require('socket.io');

const options = {
  default: {},
  recovery: { connectionStateRecovery: {} },
  polling: { transports: ['polling'] },
  cors: { cors: { origin: 'http://example.com', credentials: true } },
  binary: {},
};

const [config, port] = [process.argv[2], Number(process.argv[3] || 0)];
if (!(config in options)) {
  console.error(`unknown config ${config}; one of: ${Object.keys(options).join(', ')}`);
  process.exit(2);
}

const server = createServer();
const io = new Server(server, options[config]);

if (config === 'cors') {
  io.use((socket, next) => {
    if (socket.handshake.auth.token !== 'letmein') {
      return next(new Error('not authorized'));
    }
    // Emitted before the socket is connected: it reaches the client ahead of the CONNECT reply.
    socket.emit('early', 'from the middleware');
    next();
  });
}

io.on('connection', (socket) => {
  // An object, not a string: with recovery on, a last string argument reads as an offset.
  socket.emit('welcome', { name: socket.handshake.query.name || 'stranger' });
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
  socket.on('send file', () => {
    socket.emit('file', 'caption', Buffer.from('hi'));
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(server.address().port);
});
