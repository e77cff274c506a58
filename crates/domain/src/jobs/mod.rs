//! Background work: imports that take a while and webhook deliveries run as jobs, which a
//! worker claims, reports progress on, and finishes; a job whose node stopped is claimed again
//! and resumes. Also the webhook subscription's states.

use crate::code_list;

code_list! {
    /// What a job does.
    pub enum JobKind {
        /// Imports a file (台账导入).
        Import = ("import", "导入"),
        /// Delivers a webhook subscription's events, in order (事件推送).
        Webhook = ("webhook", "事件推送"),
    }
}

code_list! {
    /// Where a job is.
    pub enum JobState {
        /// Waiting for a worker.
        Queued = ("queued", "排队中"),
        /// A worker holds it.
        Running = ("running", "执行中"),
        /// Done; its report says what it did.
        Succeeded = ("succeeded", "已完成"),
        /// Could not be done (an unreadable file); its report says why.
        Failed = ("failed", "失败"),
    }
}

code_list! {
    /// What an import reads.
    pub enum ImportKind {
        /// A survey ledger of enterprises (企业台账).
        Enterprises = ("enterprises", "企业台账"),
        /// A ledger of standardization certificates (证书台账), legacy numbers included.
        Certificates = ("certificates", "等级证书台账"),
        /// A ledger of production-safety accidents (事故台账).
        Accidents = ("accidents", "事故台账"),
    }
}

code_list! {
    /// Whether an import writes only when every row can be imported.
    pub enum ImportMode {
        /// All rows or none: nothing is written while any row has a problem.
        All = ("all", "全部行无误才导入"),
        /// The rows without problems are imported; the others are reported.
        ValidRows = ("valid_rows", "仅导入无误的行"),
    }
}

code_list! {
    /// How an import ended.
    pub enum ImportOutcome {
        /// A dry run: the report says what would happen; nothing was written.
        DryRun = ("dry_run", "试导入（未写入）"),
        /// The rows were written.
        Imported = ("imported", "已导入"),
        /// Some row has a problem and the mode is `all`: nothing was written.
        Refused = ("refused", "有错误，未导入"),
    }
}

code_list! {
    /// Whether a webhook subscription's deliveries get through.
    pub enum WebhookStatus {
        /// Deliveries succeed, or are being retried.
        Active = ("active", "正常"),
        /// Deliveries failed for longer than the retry period; delivery stops until the
        /// subscription is resumed.
        Failing = ("failing", "推送失败"),
    }
}

/// How long deliveries of one event are retried before the subscription is marked failing:
/// at least a day (a receiver down for an hour, or a night, loses nothing).
pub const WEBHOOK_RETRY_HOURS: i64 = 24;

/// The wait before retry number `attempt` (1-based) of a delivery: doubling from 5 seconds,
/// capped at 30 minutes, with up to a quarter more as jitter (`jitter` in `0.0..1.0`), so
/// many subscriptions to one receiver do not retry in step.
pub fn webhook_backoff_seconds(attempt: u32, jitter: f64) -> i64 {
    let base = 5_i64.saturating_mul(1_i64 << attempt.saturating_sub(1).min(20));
    let capped = base.min(30 * 60);
    #[expect(clippy::cast_possible_truncation, reason = "at most a quarter of 1800")]
    let extra = (capped as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    capped + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        assert_eq!(webhook_backoff_seconds(1, 0.0), 5);
        assert_eq!(webhook_backoff_seconds(2, 0.0), 10);
        assert_eq!(webhook_backoff_seconds(5, 0.0), 80);
        assert_eq!(webhook_backoff_seconds(12, 0.0), 1800);
        assert_eq!(webhook_backoff_seconds(200, 0.0), 1800);
        assert_eq!(webhook_backoff_seconds(12, 1.0), 2250);
        assert!(webhook_backoff_seconds(3, 0.5) > webhook_backoff_seconds(3, 0.0));
        // A day of retries is about 50 attempts: the period, not the count, decides failing.
        let mut waited = 0;
        let mut n = 0;
        while waited < WEBHOOK_RETRY_HOURS * 3600 {
            n += 1;
            waited += webhook_backoff_seconds(n, 0.0);
        }
        assert!((40..60).contains(&n), "{n}");
    }
}
