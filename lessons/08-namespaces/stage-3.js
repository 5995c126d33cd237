const admin = io.of('/admin');

admin.use((socket, next) => {
  if (socket.handshake.auth.token === 'letmein') {
    next();
  } else {
    const err = new Error('not authorized');
    err.data = { hint: 'send auth.token' };
    next(err);
  }
});

admin.on('connection', (socket) => {
  socket.emit('welcome', 'admin');
});

io.on('connection', (socket) => {
  socket.on('announce', (msg) => {
    io.of('/admin').emit('announcement', msg);
  });
});
