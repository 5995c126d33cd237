// Fails: the server listens at the default path, /socket.io/ ...
const io = new Server(server);
// ... while the client asks for another one.
//   const socket = io({ path: '/realtime/' });
//   // connect_error: "xhr poll error", err.description 404

// Fixes it: the same path on both sides (each one's default is /socket.io/).
//   const io = new Server(server, { path: '/realtime/' });
//   const socket = io({ path: '/realtime/' });

io.on('connection', (socket) => {
  socket.emit('welcome', 'hello');
});
