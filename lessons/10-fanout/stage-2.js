io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});

// What the measurement sends to 100 clients, five times each:
function measure() {
  io.emit('chat message', 'a'.repeat(10));     // a 33-byte frame each
  io.emit('chat message', 'a'.repeat(100000)); // a 100,031-byte frame each
}
