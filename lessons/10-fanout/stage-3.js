io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});

// What the measurement does, for n = 1 to 10:
function tick(n) {
  io.emit('tick', n); // queued: a slow reader gets every tick, late
}
function flash(n) {
  io.volatile.emit('flash', n); // dropped while its connection is busy
}
