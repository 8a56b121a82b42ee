// Package kernelspec owns Jupyter kernelspecs as cloudline sees them: it finds
// them on the jupyter_client search path, reads and validates kernel.json,
// wraps an existing spec (usually ipykernel's python3) in a cloudline spec,
// installs and removes specs atomically, and parses cloudline's own
// configuration from metadata.cloudline and CLOUDLINE_<KEY> variables.
//
// It leaves running the kernel to the kernel package and the meaning of the
// configuration to cellwatch and advisor. Parsing (Parse, ParseConfig, Wrap)
// is pure; the functions that touch the disk or run the Python interpreter
// are ReadSpec, Find, List, SysPrefix, Install, Remove and LoadConfig.
package kernelspec
