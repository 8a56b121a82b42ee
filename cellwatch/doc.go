// Package cellwatch turns the proxy's message stream and samples of the
// kernel's processes into one Record per executed cell.
package cellwatch

import _ "github.com/shirou/gopsutil/v4/process" // process sampling
