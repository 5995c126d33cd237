io.on('connection', async (socket) => {
  try {
    const answer = await socket.timeout(100).emitWithAck('question', 'ready?');
  } catch (err) {
    // no answer within 100 ms
  }
});
