"""Launch files, parameter YAML, middleware profiles and the link emulator of Dedelayed."""
