// Server A and server B run this same file, each as its own process on its own port:
//   const io = new Server(server);   // no adapter option: each keeps its sockets to itself
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});
