// The server of stage 6.2: it stores and emits, and takes no acknowledgement callback.
io.on('connection', async (socket) => {
  socket.on('chat message', async (msg) => {
    let result;
    try {
      result = await db.run('INSERT INTO messages (content) VALUES (?)', msg);
    } catch (e) {
      return; // not stored: not sent either
    }
    io.emit('chat message', msg, result.lastID);
  });
  await db.each('SELECT id, content FROM messages WHERE id > ?',
    [socket.handshake.auth.serverOffset || 0],
    (_err, row) => {
      socket.emit('chat message', row.content, row.id);
    });
});

// client: const socket = io({ auth: { serverOffset: 0 }, ackTimeout: 100, retries: 1 });
//         socket.emit('chat message', 'anyone there?');
