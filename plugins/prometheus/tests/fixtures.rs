//! Runs the golden fixtures (`fixtures/*.json`) through the native logic, their canned metric
//! answers serving the queries. The runtime runs the same files through the wasm component.

waxwing_plugin_sdk::policy_fixture_test!(waxwing_plugin_prometheus, metrics);
