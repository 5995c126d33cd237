io.on('connection', (socket) => {
  socket.on('private message', (to, msg) => {
    socket.to(to).emit('private message', msg);
  });
});
