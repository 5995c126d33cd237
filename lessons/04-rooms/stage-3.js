io.on('connection', (socket) => {
  socket.on('join', (room) => {
    socket.join(room);
  });
  socket.on('news', (msg) => {
    io.to('a').to('b').emit('news', msg);
  });
});
