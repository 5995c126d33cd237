// const db = await open({ filename: 'chat.db', driver: sqlite3.Database });
// await db.exec('CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, client_offset TEXT UNIQUE, content TEXT);');
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
  // The tutorial's query has no ORDER BY; add `ORDER BY id` to be sure of the order.
  await db.each('SELECT id, content FROM messages WHERE id > ?',
    [socket.handshake.auth.serverOffset || 0],
    (_err, row) => {
      socket.emit('chat message', row.content, row.id);
    });
});

// client: const socket = io({ auth: { serverOffset: 0 } });
//         socket.on('chat message', (msg, serverOffset) => { /* show msg */ socket.auth.serverOffset = serverOffset; });
