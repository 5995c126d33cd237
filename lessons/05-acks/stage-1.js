io.on('connection', (socket) => {
  socket.on('question', (q, callback) => {
    callback({ got: q });
  });
});
