io.on('connection', (socket) => {
  socket.on('announce', (msg) => {
    io.of('/admin').emit('announcement', msg);
  });
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);   // the same as io.of('/').emit
  });
});

io.of('/admin').on('connection', (socket) => {
  console.log('an admin connected');
});
