io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});

// The measurement's two ways of sending msg to everyone:
function toEveryone(msg) {
  io.emit('chat message', msg); // encoded once, written to every socket
}
function toEachSocket(msg) {
  for (const s of io.sockets.sockets.values()) {
    s.emit('chat message', msg); // encoded again for each socket
  }
}
