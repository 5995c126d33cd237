io.on('connection', (socket) => {
  socket.on('announce', (msg) => {
    io.of('/admin').emit('announcement', msg);
  });
});

io.of('/admin').on('connection', (socket) => {
  console.log('an admin connected');
});
