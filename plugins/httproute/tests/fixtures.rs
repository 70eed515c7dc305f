//! Runs the golden fixtures (`fixtures/*.json`, written by `scripts/make-fixtures.py`) through
//! the native logic. The runtime runs the same files through the wasm component.

waxwing_plugin_sdk::traffic_fixture_test!(waxwing_plugin_httproute);
