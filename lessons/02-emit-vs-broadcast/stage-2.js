io.on('connection', (socket) => {
  socket.broadcast.emit('hi');
});
