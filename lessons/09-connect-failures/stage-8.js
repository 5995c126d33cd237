// The server is an ordinary chat:
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});

// Fails, in the page: a handler registered inside 'connect' is registered again on every
// reconnection, and each copy runs.
//   socket.on('connect', () => {
//     socket.on('chat message', (msg) => show(msg));
//   });
// Fixes it: register every handler once, at the top level; keep in 'connect' only what must
// happen again on each connection (showing "online", say).
//   socket.on('chat message', (msg) => show(msg));
//   socket.on('connect', () => console.log('connected as', socket.id));
