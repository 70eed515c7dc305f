//! The `host` and `metrics` imports: grants are checked here, then the call goes to the
//! controller's [`HostServices`](crate::HostServices).

use crate::bindings::policy::waxwing::plugin::metrics::{self, MetricQuery};
use crate::bindings::workload::waxwing::plugin::{host, types};
use crate::limits::LOG_LINE_BYTES;
use crate::sandbox::CallState;

impl types::Host for CallState {}

impl host::Host for CallState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let message = truncate(&message, LOG_LINE_BYTES);
        let plugin = &self.plugin.id.name;
        let sha256 = self.plugin.id.short_sha();
        // tracing needs the level at compile time, hence one arm per level.
        match level {
            host::LogLevel::Trace => tracing::trace!(plugin, sha256, "{message}"),
            host::LogLevel::Debug => tracing::debug!(plugin, sha256, "{message}"),
            host::LogLevel::Info => tracing::info!(plugin, sha256, "{message}"),
            host::LogLevel::Warn => tracing::warn!(plugin, sha256, "{message}"),
            host::LogLevel::Error => tracing::error!(plugin, sha256, "{message}"),
        }
    }

    fn get_object(
        &mut self,
        api_version: String,
        kind: String,
        namespace: String,
        name: String,
    ) -> Result<Option<String>, String> {
        self.check_read(&api_version, &kind)?;
        self.services
            .get_object(&api_version, &kind, &namespace, &name)
    }

    fn list_objects(
        &mut self,
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: String,
    ) -> Result<Vec<String>, String> {
        self.check_read(&api_version, &kind)?;
        self.services
            .list_objects(&api_version, &kind, &namespace, &label_selector)
    }
}

impl metrics::Host for CallState {
    fn query(&mut self, provider: String, request: MetricQuery) -> Result<String, String> {
        if !self.plugin.grants.may_query(&provider) {
            return Err(format!(
                "{} may not query the metrics provider {provider:?}: add it to the plugin's \
                 grants.metrics in the waxwing-plugins ConfigMap",
                self.plugin.id
            ));
        }
        self.services.query_metrics(&provider, &request)
    }
}

impl CallState {
    fn check_read(&self, api_version: &str, kind: &str) -> Result<(), String> {
        if self.plugin.grants.may_read(api_version, kind) {
            return Ok(());
        }
        Err(format!(
            "{} may not read {kind} ({api_version}): add {{apiVersion: {api_version}, kind: {kind}}} \
             to the plugin's grants.read in the waxwing-plugins ConfigMap",
            self.plugin.id
        ))
    }
}

/// At most `max` bytes of `text`, cut at a character boundary, marked when cut.
fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_a_char_boundary() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééé", 3);
        assert_eq!(cut, "é… (4 bytes cut)");
    }
}
