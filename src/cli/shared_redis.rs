//! The Redis that the stages of one command share, and what to say when there is none or it
//! goes away (both `lesson`/`tour` and predict mode play stages that need it).

use std::sync::Arc;

use super::NeedsRedis;
use crate::lesson::{Lesson, Stage};
use crate::parts::redis_server::Redis;
use crate::runner;

/// The Redis the stages of one command share: started (or reached, with `--redis`) when the
/// first stage that needs it comes, and stopped when the command ends.
#[derive(Debug, Default)]
pub struct SharedRedis {
    redis: Option<Arc<Redis>>,
}

impl SharedRedis {
    pub async fn for_stage(
        &mut self,
        lesson: &Lesson,
        stage: &Stage,
        url: Option<&str>,
    ) -> anyhow::Result<Option<Arc<Redis>>> {
        if !stage.needs_redis() {
            return Ok(None);
        }
        if self.redis.is_none() {
            let redis = Redis::start_or_connect(url).await.map_err(|e| NeedsRedis {
                message: format!(
                    "lesson {} stage {} ({}) did not run: {}",
                    lesson.number,
                    stage.number,
                    stage.title,
                    runner::redis_hint(&e, lesson.number, stage.number)
                ),
                status: e.exit_status(),
            })?;
            self.redis = Some(Arc::new(redis));
        }
        Ok(self.redis.clone())
    }
}

/// A stage's Redis went away while it played: what to say, and the exit status for it.
pub fn redis_lost(lesson: &Lesson, stage: &Stage, e: &crate::parts::redis::RedisError) -> NeedsRedis {
    NeedsRedis {
        message: format!(
            "lesson {} stage {} ({}) did not complete: {e}",
            lesson.number, stage.number, stage.title
        ),
        status: e.exit_status(),
    }
}
