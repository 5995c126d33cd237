// Fails: the handler is registered after an await, so a message that arrives meanwhile is lost.
io.on('connection', async (socket) => {
  const user = await db.findUser(socket.handshake.auth.token); // 200 ms
  socket.on('chat message', (msg) => {
    socket.emit('chat message', msg);
  });
});

// Fixes it: register first, then await; or do the await in a middleware, which runs before the
// client is told it is connected:
//   io.use(async (socket, next) => {
//     socket.data.user = await db.findUser(socket.handshake.auth.token);
//     next();
//   });
//   io.on('connection', (socket) => {
//     socket.on('chat message', (msg) => {
//       socket.emit('chat message', msg);
//     });
//   });

// The client says hello as soon as it is connected:
//   socket.on('connect', () => socket.emit('chat message', 'hello'));
