// The same emit, a small message and a large one, to 100 clients.
io.emit('chat message', 'a'.repeat(10));
io.emit('chat message', 'a'.repeat(100000));
