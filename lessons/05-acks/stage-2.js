io.on('connection', (socket) => {
  socket.on('question', (q, callback) => {
    // callback is never called
  });
});
