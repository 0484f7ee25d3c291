//! `pushwire serve` settings: command-line flag, then environment variable,
//! then the TOML file given with `--config`, then the built-in default.
//!
//! ```toml
//! listen = "0.0.0.0:8080"
//! heartbeat_secs = 15
//!
//! [[channels]]            # first matching pattern wins
//! pattern = "ticker-*"
//! policy = "latest"       # slow subscribers skip to the newest message
//! max_count = 100
//! max_age_secs = 60
//! ```

use core::net::SocketAddr;
use core::time::Duration;
use std::path::{Path, PathBuf};

use pushwire_core::hub::{ChannelConfig, ChannelRule, DeliveryPolicy, HubConfig};
use serde::Deserialize;

/// How `pushwire serve` writes its log lines to stderr.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line per event for people; colored only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything a TOML config file may set. Unknown keys are an error (a typo
/// must not be silently ignored).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// A replacement edge module.
    pub edge: Option<PathBuf>,
    /// Wall time one edge call may take, in milliseconds.
    pub edge_deadline_ms: Option<u64>,
    /// Seconds between heartbeats on idle streams.
    pub heartbeat_secs: Option<u64>,
    /// Most subscriptions open at once.
    pub max_connections: Option<usize>,
    /// Largest message, in bytes.
    pub max_message_bytes: Option<usize>,
    /// Seconds a long poll is held before an empty reply.
    pub longpoll_timeout_secs: Option<u64>,
    /// Log filter.
    pub log: Option<String>,
    /// How log lines are written: `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// Run the built-in demo camera on `demo-cam`.
    pub demo_camera: Option<bool>,
    /// Run the built-in stock ticker on `ticker`.
    pub demo_ticker: Option<bool>,
    /// The channel the server's own numbers go to; empty: none.
    pub stats_channel: Option<String>,
    /// Seconds a camera upload may send nothing before it is ended.
    pub upload_idle_secs: Option<u64>,
    /// Seconds a request head may take once its first bytes arrived.
    pub head_timeout_secs: Option<u64>,
    /// A static bearer token that may publish and subscribe to everything.
    pub auth_token: Option<String>,
    /// The HS256 key of JSON Web Tokens naming channels in their claims.
    pub jwt_secret: Option<String>,
    /// Channel patterns whose subscribers need a token.
    pub private_channels: Option<Vec<String>>,
    /// Origins allowed to call from other sites' pages (CORS); `*` for any.
    pub cors_origins: Option<Vec<String>>,
    /// Let those origins send cookies.
    pub cors_credentials: Option<bool>,
    /// Replay log and slow-subscriber policy of the channels not matched by
    /// a pattern.
    pub default_channel: Option<ChannelSection>,
    /// Replay log and slow-subscriber policy by channel-name pattern.
    #[serde(default)]
    pub channels: Vec<ChannelSection>,
}

/// One `[[channels]]` table (or `[default_channel]`, without `pattern`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChannelSection {
    /// A channel name, or a prefix followed by `*`.
    pub pattern: Option<String>,
    /// Most messages kept for replay (default 1024).
    pub max_count: Option<usize>,
    /// Most bytes kept for replay (default 4 MiB).
    pub max_bytes: Option<usize>,
    /// Seconds a message is kept for replay; 0 keeps it until count or bytes
    /// push it out (default 300).
    pub max_age_secs: Option<u64>,
    /// `queue` (a subscriber more than `max_lag` behind is disconnected with
    /// a cursor to resume from) or `latest` (it skips to the newest message).
    pub policy: Option<String>,
    /// For `queue`: how far behind a subscriber may fall (default 512).
    pub max_lag: Option<u64>,
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("the config file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A `[[channels]]` table is wrong.
    #[error("in the config file's channel settings: {0}")]
    Channel(String),
    /// `PUSHWIRE_DEFAULT_CHANNEL` or `PUSHWIRE_CHANNELS` is not a TOML value
    /// of the right shape.
    #[error("the environment variable {name} is not valid: {message}")]
    Environment {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The environment variable that replaces `[default_channel]`: a TOML inline
/// table, e.g. `{ max_count = 100, policy = "latest" }`.
pub const DEFAULT_CHANNEL_ENV: &str = "PUSHWIRE_DEFAULT_CHANNEL";

/// The environment variable that replaces every `[[channels]]` table: a TOML
/// array of inline tables, e.g. `[{ pattern = "ticker-*", policy = "latest" }]`.
pub const CHANNELS_ENV: &str = "PUSHWIRE_CHANNELS";

impl FileConfig {
    /// Read and check a config file.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, has unknown keys or wrong types.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parse config text.
    ///
    /// # Errors
    /// A message saying what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|err| err.to_string().trim_end().to_owned())
    }

    /// Let [`DEFAULT_CHANNEL_ENV`] and [`CHANNELS_ENV`], when `lookup` has
    /// them, replace the file's channel tables (the other keys have their own
    /// variables, read by the command line).
    ///
    /// # Errors
    /// A variable that is not a TOML value of the right shape.
    pub fn apply_channel_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Value<T> {
            value: T,
        }
        fn read<T: serde::de::DeserializeOwned>(
            name: &'static str,
            text: &str,
        ) -> Result<T, ConfigError> {
            toml::from_str::<Value<T>>(&format!("value = {text}"))
                .map(|wrapped| wrapped.value)
                .map_err(|err| ConfigError::Environment {
                    name,
                    message: err.message().to_owned(),
                })
        }
        if let Some(text) = lookup(DEFAULT_CHANNEL_ENV) {
            self.default_channel = Some(read(DEFAULT_CHANNEL_ENV, &text)?);
        }
        if let Some(text) = lookup(CHANNELS_ENV) {
            self.channels = read(CHANNELS_ENV, &text)?;
        }
        Ok(())
    }

    /// The hub configuration these settings describe.
    ///
    /// # Errors
    /// A channel table with a bad policy or a missing pattern.
    pub fn hub(&self, max_message_bytes: usize) -> Result<HubConfig, ConfigError> {
        let defaults = HubConfig::default();
        let channel = match &self.default_channel {
            Some(section) => {
                if section.pattern.is_some() {
                    return Err(ConfigError::Channel(
                        "[default_channel] applies to every channel: remove its `pattern`".into(),
                    ));
                }
                section.apply(defaults.channel)?
            }
            None => defaults.channel,
        };
        let mut channel_rules = Vec::with_capacity(self.channels.len());
        for section in &self.channels {
            let Some(pattern) = section.pattern.clone().filter(|p| !p.is_empty()) else {
                return Err(ConfigError::Channel(
                    "every [[channels]] table needs a `pattern` (a name, or a prefix ending in *)"
                        .into(),
                ));
            };
            channel_rules.push(ChannelRule {
                pattern,
                config: section.apply(channel)?,
            });
        }
        Ok(HubConfig {
            max_message_bytes,
            channel,
            channel_rules,
            ..defaults
        })
    }
}

impl ChannelSection {
    fn apply(&self, base: ChannelConfig) -> Result<ChannelConfig, ConfigError> {
        let policy = match (self.policy.as_deref(), self.max_lag) {
            (None, None) => base.policy,
            (None | Some("queue"), max_lag) => DeliveryPolicy::Queue {
                max_lag: max_lag.unwrap_or(match base.policy {
                    DeliveryPolicy::Queue { max_lag } => max_lag,
                    _ => 512,
                }),
            },
            (Some("latest"), None) => DeliveryPolicy::Latest,
            (Some("latest"), Some(_)) => {
                return Err(ConfigError::Channel(
                    "`max_lag` only applies to policy = \"queue\"".into(),
                ));
            }
            (Some(other), _) => {
                return Err(ConfigError::Channel(format!(
                    "unknown policy {other:?}: use \"queue\" or \"latest\""
                )));
            }
        };
        Ok(ChannelConfig {
            max_count: self.max_count.unwrap_or(base.max_count),
            max_bytes: self.max_bytes.unwrap_or(base.max_bytes),
            max_age: match self.max_age_secs {
                Some(0) => None,
                Some(secs) => Some(Duration::from_secs(secs)),
                None => base.max_age,
            },
            policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_tables_come_from_the_environment_when_set() {
        let mut config = FileConfig::parse("[default_channel]\nmax_count = 5\n").unwrap();
        config
            .apply_channel_env(|name| match name {
                CHANNELS_ENV => Some(r#"[{ pattern = "ticker-*", policy = "latest" }]"#.into()),
                _ => None,
            })
            .unwrap();
        let hub = config.hub(100).unwrap();
        assert_eq!(hub.channel.max_count, 5, "the file's default stays");
        assert_eq!(hub.channel_rules[0].config.policy, DeliveryPolicy::Latest);
        config
            .apply_channel_env(|name| {
                (name == DEFAULT_CHANNEL_ENV).then(|| "{ max_count = 9, max_age_secs = 0 }".into())
            })
            .unwrap();
        assert_eq!(config.hub(100).unwrap().channel.max_count, 9);
        let err = config
            .apply_channel_env(|name| (name == CHANNELS_ENV).then(|| "[{ patern = \"x\" }]".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PUSHWIRE_CHANNELS") && err.contains("patern"),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_production_config_turns_the_demos_off() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/production.toml");
        let config = FileConfig::load(&path).unwrap();
        assert_eq!(config.demo_camera, Some(false));
        assert_eq!(config.demo_ticker, Some(false));
        assert!(config.auth_token.is_none() && config.jwt_secret.is_none());
        assert!(
            config
                .private_channels
                .as_ref()
                .unwrap()
                .contains(&"pushwire-stats".to_owned())
        );
        config.hub(1024).unwrap();
    }

    #[test]
    fn a_full_config_file_parses_into_hub_rules() {
        let config = FileConfig::parse(
            r#"
            listen = "0.0.0.0:9000"
            heartbeat_secs = 5
            [default_channel]
            max_count = 50
            [[channels]]
            pattern = "ticker-*"
            policy = "latest"
            max_age_secs = 0
            [[channels]]
            pattern = "audit"
            policy = "queue"
            max_lag = 10
            "#,
        )
        .unwrap();
        assert_eq!(config.listen, Some("0.0.0.0:9000".parse().unwrap()));
        let hub = config.hub(1000).unwrap();
        assert_eq!(hub.max_message_bytes, 1000);
        assert_eq!(hub.channel.max_count, 50);
        assert_eq!(hub.channel_rules.len(), 2);
        assert!(hub.channel_rules[0].matches("ticker-acme"));
        assert_eq!(hub.channel_rules[0].config.policy, DeliveryPolicy::Latest);
        assert_eq!(hub.channel_rules[0].config.max_age, None);
        assert_eq!(
            hub.channel_rules[0].config.max_count, 50,
            "inherits the default channel"
        );
        assert_eq!(
            hub.channel_rules[1].config.policy,
            DeliveryPolicy::Queue { max_lag: 10 }
        );
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        for (text, format) in [
            ("log_format = \"text\"", Some(LogFormat::Text)),
            ("log_format = \"json\"", Some(LogFormat::Json)),
            ("", None),
        ] {
            assert_eq!(FileConfig::parse(text).unwrap().log_format, format);
        }
        let err = FileConfig::parse("log_format = \"xml\"").unwrap_err();
        assert!(err.contains("unknown variant `xml`"), "{err}");
    }

    #[test]
    fn mistakes_in_a_config_file_are_named() {
        let cases: &[(&str, &str)] = &[
            ("listne = \"x\"", "unknown field `listne`"),
            ("heartbeat_secs = \"soon\"", "invalid type"),
            ("listen = \"nowhere\"", "invalid socket address"),
        ];
        for (text, says) in cases {
            let err = FileConfig::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let cases: &[(&str, &str)] = &[
            ("[[channels]]\nmax_count = 1", "needs a `pattern`"),
            (
                "[[channels]]\npattern = \"a\"\npolicy = \"fifo\"",
                "unknown policy \"fifo\"",
            ),
            (
                "[[channels]]\npattern = \"a\"\npolicy = \"latest\"\nmax_lag = 3",
                "only applies",
            ),
            ("[default_channel]\npattern = \"a\"", "remove its `pattern`"),
        ];
        for (text, says) in cases {
            let err = FileConfig::parse(text)
                .unwrap()
                .hub(1)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
