// Fails: the server takes at most 1 000 bytes per message (the default is 1e6, one megabyte).
const io = new Server(server, { maxHttpBufferSize: 1e3 });
// Fixes it: a limit above the largest message the application sends (and no larger).
//   const io = new Server(server, { maxHttpBufferSize: 1e5 });

io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    socket.emit('chat message', msg);
  });
});

// The client sends 2 000 bytes:
//   socket.emit('chat message', 'x'.repeat(2000));
//   socket.on('disconnect', (reason) => console.log(reason));
//   // over WebSocket: "transport close"; over long-polling: "transport error"
