//! A time limit on a request's body, for `serve`: [`Deadline`] wraps the body a client sends.
//!
//! hyper limits how long a client may take to send a request's *headers*, but once the headers
//! are complete nothing limits the body. A client that announces a body (`Content-Length: 100`)
//! and then sends a byte now and then holds its connection, and the server's task, for as long
//! as it likes: a few hundred such requests use up every connection `serve` keeps open, and then
//! nobody else gets in. Node's HTTP server has the same gap closed by `requestTimeout`.
//!
//! Socket.IO's own bodies are small and quick: a long-polling `POST` carries a few packets, sent
//! at once. So the body gets the same time as the headers; when it runs out, reading the body
//! fails, the request fails with it, and hyper closes the connection (a half-read request cannot
//! be followed by another on the same connection).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};

/// What reading a body that ran out of time gives.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct TooSlow(Duration);

/// A body that must be read to its end within a time limit, counted from when it was wrapped
/// (when the request's headers had arrived).
#[derive(Debug)]
pub struct Deadline<B> {
    inner: B,
    within: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    pub fn new(inner: B, within: Duration) -> Self {
        Self {
            inner,
            within,
            timer: Box::pin(tokio::time::sleep(within)),
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        // What has arrived is handed on first; the timer only decides when nothing has.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(TooSlow(self.within)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, Full, StreamBody};

    #[tokio::test]
    async fn a_body_that_stops_arriving_fails_when_its_time_is_up() {
        // One frame, then nothing: the stream never ends.
        let frames = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Frame::data(
            hyper::body::Bytes::from_static(b"4"),
        ))])
        .chain(futures_util::stream::pending());
        // A short limit: this test is about a timeout, so it waits for one.
        let body = Deadline::new(StreamBody::new(frames), Duration::from_millis(50));
        let error = body.collect().await.expect_err("the body never ends");
        assert!(error.to_string().contains("within 50ms"), "{error}");
    }

    #[tokio::test]
    async fn a_body_that_arrives_in_time_is_read_whole() {
        let body = Deadline::new(
            Full::new(hyper::body::Bytes::from_static(b"40")),
            Duration::from_secs(5),
        );
        let bytes = body.collect().await.expect("in time").to_bytes();
        assert_eq!(&bytes[..], b"40");
    }
}
