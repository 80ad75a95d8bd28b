"""The plugin loader, re-exported where the part registries live (``archprobe.plugins`` holds it,
at the root, so the CLI can ask whether any plugin is named without importing every part)."""

from archprobe.plugins import ENV, GROUP, PluginError, check, load_plugins, named_plugins

__all__ = ["ENV", "GROUP", "PluginError", "check", "load_plugins", "named_plugins"]
