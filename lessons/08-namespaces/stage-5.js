const teams = io.of(/^\/team-\w+$/);

teams.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    socket.nsp.emit('chat message', msg);   // socket.nsp: this socket's team, e.g. /team-red
  });
});

// The parent namespace reaches every team at once (Node only, see below):
//   teams.emit('chat message', 'all hands');
