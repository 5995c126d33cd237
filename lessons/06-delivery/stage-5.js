io.on('connection', async (socket) => {
  socket.on('chat message', async (msg, clientOffset, callback) => {
    let result;
    try {
      result = await db.run('INSERT INTO messages (content, client_offset) VALUES (?, ?)', msg, clientOffset);
    } catch (e) {
      if (e.errno === 19 /* SQLITE_CONSTRAINT */) {
        callback(); // stored before: a retry whose first ack was lost
      }
      return; // any other failure: no ack, so the client retries
    }
    io.emit('chat message', msg, result.lastID);
    callback();
  });
  await db.each('SELECT id, content FROM messages WHERE id > ?',
    [socket.handshake.auth.serverOffset || 0],
    (_err, row) => {
      socket.emit('chat message', row.content, row.id);
    });
});

// client: const socket = io({ auth: { serverOffset: 0 }, ackTimeout: 500, retries: 1 });
//         let counter = 0;
//         // not `${socket.id}-...`: socket.id is undefined while offline, when messages queue
//         socket.emit('chat message', text, `${name}-${++counter}`);
