io.on('connection', (socket) => {
  socket.on('join', (room) => {
    socket.join(room);
  });
  socket.on('news', (msg) => {
    io.except('a').emit('news', msg);
  });
});
