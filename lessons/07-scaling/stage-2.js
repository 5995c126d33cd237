// Server A and server B run this same file, each on its own port, both joined through Redis:
//   const pubClient = createClient({ url: 'redis://localhost:6379' });
//   const subClient = pubClient.duplicate();
//   await Promise.all([pubClient.connect(), subClient.connect()]);
//   const io = new Server(server, { adapter: createAdapter(pubClient, subClient) });
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
  socket.on('local message', (msg) => {
    io.local.emit('chat message', msg);
  });
  socket.on('join', (room) => {
    socket.join(room);
  });
  socket.on('room message', (room, msg) => {
    socket.to(room).emit('room message', msg);
  });
});
