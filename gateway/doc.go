// Package gateway implements the kernel side of Jupyter Enterprise
// Gateway's remote launcher contract (checked against Enterprise Gateway
// 3.3's launch_ipykernel.py and its RemoteProcessProxy): the gateway hands
// a launcher its kernel id, a response address, an RSA public key and a
// port range; the launcher picks its ports within the range, sends the
// connection information back sealed for that key, and serves the
// gateway's signal and shutdown requests on a communication port of its
// own.
//
// The package owns the formats (port range, public key, sealed payload,
// listener requests) and the two sockets of the contract. Running the
// kernel behind those ports is the kernel package's job; what a signal or
// a shutdown does to the kernel is the caller's (cmd/cloudline).
package gateway
