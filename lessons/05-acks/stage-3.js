io.on('connection', async (socket) => {
  try {
    const answer = await socket.timeout(300).emitWithAck('question', 'ready?');
  } catch (err) {
    // no answer within 300 ms
  }
});
