// Encoded once, written to every socket:
io.emit('chat message', msg);
// Encoded once per socket, the same frames:
for (const s of io.sockets.sockets.values()) s.emit('chat message', msg);
