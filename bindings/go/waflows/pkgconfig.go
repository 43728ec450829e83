//go:build waflows_pkgconfig

package waflows

// Built with -tags waflows_pkgconfig, the package links the installed library that
// `scripts/dist.sh --prefix DIR c` made, as pkg-config describes it.

// #cgo pkg-config: wa_flows_crypto
import "C"
