// Rolldown settings for `jco componentize --bundle`: the plugin contract's interfaces
// (`waxwing:plugin/...`) are imports of the component, supplied by the host, not modules to
// bundle.
export default { external: [/^waxwing:/] };
