io.use((socket, next) => {
  const name = socket.handshake.auth.name;
  if (!name) {
    return next(new Error('name required'));
  }
  socket.data.name = name;
  next();
});

io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', `${socket.data.name}: ${msg}`);
  });
});
