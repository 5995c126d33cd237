io.on('connection', (socket) => {
  socket.on('poll', async (q) => {
    try {
      const answers = await io.timeout(300).emitWithAck('question', q);
    } catch (err) {
      // someone did not answer within 300 ms; err.responses holds the answers that came
    }
  });
});
