// Node's socket.io 4.8.4 with two namespaces, for the simulated client's multiplexing tests.
//
//   node tests/node/namespaces.js <port>
//
// Starts one server on 127.0.0.1 (port 0 lets the system pick a free one) and prints the port it
// got as the first line of stdout. It serves:
//
// - `/`:      'shout' is passed on to every socket of /admin with io.of('/admin').emit('report');
//             'admins' is answered with how many sockets /admin has now.
// - `/admin`: a middleware wants `auth.token === 's3cret'` and otherwise refuses with an error
//             that carries data, which Node sends along in the CONNECT_ERROR packet; a socket
//             let in is greeted with its own id ('welcome admin'), 'whoami' is answered with
//             the socket's id and namespace, and 'announce' goes to every socket of `/` with
//             io.of('/').emit('news').
//
// Any other namespace is refused by Node itself ("Invalid namespace").

const { createServer } = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 0);
const server = createServer();
const io = new Server(server);

io.on('connection', (socket) => {
  socket.on('shout', (msg) => {
    io.of('/admin').emit('report', msg);
  });
  socket.on('admins', (callback) => {
    callback(io.of('/admin').sockets.size);
  });
});

const admin = io.of('/admin');
admin.use((socket, next) => {
  if (socket.handshake.auth.token !== 's3cret') {
    const err = new Error('not authorized');
    err.data = { reason: 'no token' };
    return next(err);
  }
  next();
});
admin.on('connection', (socket) => {
  socket.emit('welcome admin', socket.id);
  socket.on('whoami', (callback) => {
    callback({ id: socket.id, nsp: socket.nsp.name });
  });
  socket.on('announce', (msg) => {
    io.of('/').emit('news', msg);
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(server.address().port);
});
