//! Typed settings, layered (figment): defaults, then an optional TOML file (`--config` or
//! `SAFEGRADE_CONFIG`), then `SAFEGRADE_*` environment variables (one per key, e.g.
//! `SAFEGRADE_POOL_SIZE`), then command-line flags (applied by `main`).

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the server can be told. Each key is also read from `SAFEGRADE_<KEY>`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (`SAFEGRADE_BIND`).
    pub bind: String,
    /// `sqlite://<path>` or `postgres://…` (`SAFEGRADE_DATABASE_URL`).
    pub database_url: String,
    /// A streaming replica of the PostgreSQL database for lists and statistics
    /// (`SAFEGRADE_DATABASE_READ_URL`); absent: every read goes to `database_url`. Lists may
    /// then lag writes by the replication delay (docs/SCALE.md).
    pub database_read_url: Option<String>,
    /// Database connections per pool (`SAFEGRADE_POOL_SIZE`).
    pub pool_size: u32,
    /// HTTP worker threads; 0 means one per core (`SAFEGRADE_WORKERS`).
    pub workers: usize,
    /// How long a token check is reused before the database is asked again: the bound on
    /// how late a revocation made on another node takes effect (default 5;
    /// `SAFEGRADE_TOKEN_CACHE_SECONDS`).
    pub token_cache_seconds: u64,
    /// A TOML file with the grade rules in force (`SAFEGRADE_GRADE_RULES`); absent: the
    /// built-in rule set. `safegrade grade-rules` prints the built-in one as a template.
    pub grade_rules: Option<PathBuf>,
    /// The server's public address, like `https://safegrade.example.gov.cn`
    /// (`SAFEGRADE_PUBLIC_URL`): problem `type` links become absolute. Absent: relative.
    pub public_url: Option<String>,
    /// Background lanes running imports on this node (`SAFEGRADE_IMPORT_LANES`, default 1;
    /// 0: this node runs none, another does).
    pub import_lanes: usize,
    /// Background lanes delivering webhooks on this node (`SAFEGRADE_WEBHOOK_LANES`,
    /// default 2; 0: none here).
    pub webhook_lanes: usize,
    /// A token that may read `GET /metrics` (`SAFEGRADE_METRICS_TOKEN`); absent: only a
    /// city administrator's token may.
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./data/safegrade.db".into(),
            database_read_url: None,
            pool_size: 8,
            workers: 0,
            token_cache_seconds: 5,
            grade_rules: None,
            public_url: None,
            import_lanes: 1,
            webhook_lanes: 2,
            metrics_token: None,
        }
    }
}

/// The keys a `SAFEGRADE_*` variable may set (other `SAFEGRADE_*` variables, like
/// `SAFEGRADE_TODAY` or `SAFEGRADE_LOG`, belong to the command line or logging).
const KEYS: [&str; 11] = [
    "bind",
    "database_url",
    "database_read_url",
    "pool_size",
    "workers",
    "token_cache_seconds",
    "grade_rules",
    "public_url",
    "import_lanes",
    "webhook_lanes",
    "metrics_token",
];

impl Settings {
    /// The background worker's lanes on this node.
    pub fn worker(&self) -> safegrade_http::worker::WorkerConfig {
        safegrade_http::worker::WorkerConfig {
            import_lanes: self.import_lanes,
            webhook_lanes: self.webhook_lanes,
            ..safegrade_http::worker::WorkerConfig::default()
        }
    }

    /// Defaults, overlaid with the TOML file at `path` (if given), overlaid with the
    /// `SAFEGRADE_*` variables of the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        Self::figment(path, Env::prefixed("SAFEGRADE_").only(&KEYS))
    }

    fn figment(path: Option<&Path>, env: Env) -> anyhow::Result<Self> {
        let mut f = Figment::from(Serialized::defaults(Self::default()));
        if let Some(path) = path {
            if !path.exists() {
                anyhow::bail!("cannot read config {}: no such file", path.display());
            }
            f = f.merge(Toml::file(path));
        }
        let settings: Self = f
            .merge(env)
            .extract()
            .map_err(|e| anyhow::anyhow!("settings: {e}"))?;
        if let Some(u) = &settings.public_url {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && !u.contains(char::is_whitespace)
                && !u.contains(['?', '#']);
            anyhow::ensure!(
                ok,
                "public_url must be an http(s) address without query or fragment, like https://safegrade.example.gov.cn (got {u})"
            );
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_rejects_typos() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\n")?;
        let s = Settings::figment(Some(&file), Env::prefixed("SG_TEST_NONE_"))?;
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.database_url, Settings::default().database_url);
        std::fs::write(&file, "bnid = \"x\"\n")?;
        assert!(Settings::figment(Some(&file), Env::prefixed("SG_TEST_NONE_")).is_err());
        assert!(
            Settings::figment(
                Some(&dir.path().join("missing.toml")),
                Env::prefixed("SG_TEST_NONE_")
            )
            .is_err()
        );
        Ok(())
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's Jail closures return its error type"
    )]
    fn environment_overrides_the_file() -> anyhow::Result<()> {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "pool_size = 3\nworkers = 2\n")?;
            jail.set_env("SAFEGRADE_POOL_SIZE", "17");
            jail.set_env("SAFEGRADE_TODAY", "2025-01-01");
            let s = Settings::load(Some(Path::new("a.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(s.pool_size, 17, "SAFEGRADE_POOL_SIZE is read");
            assert_eq!(s.workers, 2);
            Ok(())
        });
        Ok(())
    }
}
