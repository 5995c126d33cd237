io.on('connection', (socket) => {
  socket.on('join', (room) => {
    socket.join(room);
  });
  socket.on('room message', (room, msg) => {
    io.to(room).emit('room message', msg);
  });
});
