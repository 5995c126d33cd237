// Real-world configurations of Node's socket.io, for the simulated client's conformance tests.
//
//   node tests/node/configs.js <config> <port>
//
// Starts one server on 127.0.0.1 (port 0 lets the system pick a free one) and prints the port it
// got as the first line of stdout. Every configuration answers the same things, so one test can
// drive them all: `GET /` answers a page that loads the client from where Socket.IO listens, each
// newcomer is greeted with `socket.emit('welcome', ...)` and announced to the others with
// `socket.broadcast.emit('hi')` (lesson 2), and every 'chat message' is echoed to everyone with
// `io.emit` (lesson 3). What differs is one option or feature each, all of them legal and common,
// which a client (and `check`) must cope with:
//
// - default:   new Server(server), nothing else.
// - recovery:  { connectionStateRecovery: {} }: a `pid` in the CONNECT reply, an offset appended
//              to every packet io.emit sends.
// - polling:   { transports: ['polling'] }: no WebSocket at all ("upgrades": []).
// - websocket: { transports: ['websocket'] }: no long-polling at all, so io() with its default
//              transports is turned away; io({ transports: ['websocket'] }) connects.
// - cors:      CORS for another origin, and a middleware (io.use) that wants an auth token and
//              greets from inside the middleware, before the CONNECT reply.
// - binary:    'send file' is answered with a Buffer, which travels as a binary attachment.
// - other-port: the page on the printed port, Socket.IO on a second server and port, which the
//              page names in its script address and its io(url): two ports, lesson 1's subject.

const { createServer } = require('node:http');
const { Server } = require('socket.io');

const options = {
  default: {},
  recovery: { connectionStateRecovery: {} },
  polling: { transports: ['polling'] },
  websocket: { transports: ['websocket'] },
  cors: { cors: { origin: 'http://example.com', credentials: true } },
  binary: {},
  'other-port': {},
};

const [config, port] = [process.argv[2], Number(process.argv[3] || 0)];
if (!(config in options)) {
  console.error(`unknown config ${config}; one of: ${Object.keys(options).join(', ')}`);
  process.exit(2);
}

// The page a browser gets: it loads the client script from the Socket.IO server and connects.
function page(socketIoBase) {
  return `<!doctype html><title>configs.js</title>
<script src="${socketIoBase}/socket.io/socket.io.js"></script>
<script>const socket = io(${socketIoBase ? `'${socketIoBase}'` : ''});</script>`;
}

function answerPage(socketIoBase) {
  return (req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page(socketIoBase));
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
    }
  };
}

// With other-port, `server` serves only the page and `realtime` carries Socket.IO. The page's
// handler is given to createServer, before Socket.IO attaches: Socket.IO then answers its own
// path first and hands every other request to it (a listener added later would see both).
let socketIoBase = '';
const server = createServer((req, res) => answerPage(socketIoBase)(req, res));
const realtime = config === 'other-port' ? createServer() : server;
const io = new Server(realtime, options[config]);

if (config === 'cors') {
  io.use((socket, next) => {
    if (socket.handshake.auth.token !== 'letmein') {
      const err = new Error('not authorized');
      err.data = { hint: 'send auth.token' }; // the client's connect_error gets it as err.data
      return next(err);
    }
    // Emitted before the socket is connected: it reaches the client ahead of the CONNECT reply.
    socket.emit('early', 'from the middleware');
    next();
  });
}

io.on('connection', (socket) => {
  // An object, not a string: with recovery on, a last string argument reads as an offset.
  socket.emit('welcome', { name: socket.handshake.query.name || 'stranger' });
  socket.broadcast.emit('hi');
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
  socket.on('send file', () => {
    socket.emit('file', 'caption', Buffer.from('hi'));
  });
});

function listenPage(base) {
  socketIoBase = base;
  server.listen(port, '127.0.0.1', () => {
    console.log(server.address().port);
  });
}

if (realtime === server) {
  listenPage('');
} else {
  realtime.listen(0, '127.0.0.1', () => {
    listenPage(`http://127.0.0.1:${realtime.address().port}`);
  });
}
