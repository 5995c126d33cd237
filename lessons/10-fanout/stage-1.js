io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    // One call; the adapter writes one frame per connected socket.
    io.emit('chat message', msg);
  });
});
