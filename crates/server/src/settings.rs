//! Typed settings, layered: defaults, then an optional TOML file (`--config` or
//! `SAFEGRADE_CONFIG`), then `SAFEGRADE_*` environment variables and flags.

use std::path::Path;

use serde::Deserialize;

/// Everything the server can be told.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (`SAFEGRADE_BIND`).
    pub bind: String,
    /// `sqlite://<path>` or `postgres://…` (`SAFEGRADE_DATABASE_URL`).
    pub database_url: String,
    /// Database connections per pool (`SAFEGRADE_POOL_SIZE`).
    pub pool_size: u32,
    /// HTTP worker threads; 0 means one per core (`SAFEGRADE_WORKERS`).
    pub workers: usize,
    /// How long a token check is reused before the database is asked again: the bound on
    /// how late a revocation made on another node takes effect (default 5).
    pub token_cache_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./data/safegrade.db".into(),
            pool_size: 8,
            workers: 0,
            token_cache_seconds: 5,
        }
    }
}

impl Settings {
    /// Defaults overlaid with the TOML file at `path`, if given.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_rejects_typos() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("sg-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("a.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\n")?;
        let s = Settings::load(Some(&file))?;
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.database_url, Settings::default().database_url);
        std::fs::write(&file, "bnid = \"x\"\n")?;
        assert!(Settings::load(Some(&file)).is_err());
        Ok(())
    }
}
