io.on('connection', (socket) => {
  io.emit('hello', 'world');
});
