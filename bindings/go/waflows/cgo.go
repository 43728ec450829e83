// Package waflows is the cryptography of a WhatsApp Flows endpoint for Go: a thin cgo skin over
// the wa-flows-crypto C ABI (wa_flows_crypto.h). Every check, message, error code and HTTP
// status comes from the Rust core; this package converts types and frees handles.
package waflows

/*
// Inside the repository the checked-in header is found through SRCDIR; an installed prefix is
// reached with CGO_CFLAGS/CGO_LDFLAGS or the waflows_pkgconfig build tag (see pkgconfig.go).
#cgo CFLAGS: -I${SRCDIR}/../../c/include
#cgo !waflows_pkgconfig LDFLAGS: -lwa_flows_crypto -lpthread -ldl -lm
#include <stdlib.h>
#include <string.h>
#include <wa_flows_crypto.h>

// A plain memset before free may be optimised away; secrets copied into C memory must not
// outlive the call that needed them.
static void wfc_go_wipe_free(void *p, size_t n) {
	if (p == NULL) return;
	volatile unsigned char *v = (volatile unsigned char *)p;
	while (n--) *v++ = 0;
	free(p);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

const (
	statusOK             = C.WFC_STATUS_OK
	statusMalformed      = C.WFC_STATUS_MALFORMED
	statusConfig         = C.WFC_STATUS_INVALID_CONFIGURATION
	statusBufferTooSmall = C.WFC_STATUS_BUFFER_TOO_SMALL
	statusInvalidSig     = C.WFC_STATUS_INVALID_SIGNATURE
)

// Version is the version of the linked C library.
func Version() string { return C.GoString(C.wfc_version()) }

// Error is every failure of the library: Code is the stable code shared by every language
// binding ("malformed", "key_unwrap", "invalid_signature", ...), HTTPStatus the status a Flows
// endpoint should answer with (0 for media errors, which are not request-level), Message what
// went wrong and what to do (never key material or input data).
type Error struct {
	Code       string
	HTTPStatus int
	Message    string
}

func (e *Error) Error() string { return e.Message }

// newError must run on the OS thread of the failed call: the C library keeps the last message
// per thread, and goroutines migrate between threads.
func newError(status C.wfc_status, message string) *Error {
	if message == "" {
		n := C.wfc_last_error_message_len()
		if n > 0 {
			buf := make([]byte, int(n))
			var got C.size_t
			if C.wfc_last_error_message((*C.uint8_t)(unsafe.Pointer(&buf[0])), n, &got) == statusOK {
				message = string(buf[:got])
			}
		}
	}
	code := C.GoString(C.wfc_status_str(C.uint32_t(status)))
	if message == "" {
		message = code
	}
	return &Error{Code: code, HTTPStatus: int(C.wfc_status_http_status(C.uint32_t(status))), Message: message}
}

// call runs f with the goroutine pinned to its thread, so that a failure's message is the one
// f's own C call left.
func call(f func() C.wfc_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if status := f(); status != statusOK {
		return newError(status, "")
	}
	return nil
}

type outFunc func(out *C.uint8_t, outCap C.size_t, outLen *C.size_t) C.wfc_status

// copyOut calls f with a buffer of hint bytes and once more with the length the library asks
// for when that was too small.
func copyOut(hint int, f outFunc) ([]byte, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if hint < 1 {
		hint = 1
	}
	buf := make([]byte, hint)
	var n C.size_t
	status := f((*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	if status == statusBufferTooSmall && int(n) > len(buf) {
		buf = make([]byte, int(n))
		status = f((*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	}
	if status != statusOK {
		return nil, newError(status, "")
	}
	return buf[:n], nil
}

func in(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// cSecrets holds app secrets in C memory: an array of wfc_bytes may not point into Go memory
// (cgo forbids passing Go memory that holds Go pointers).
type cSecrets struct {
	arr   *C.wfc_bytes
	count int
	data  []unsafe.Pointer
	lens  []int
}

func newSecrets(secrets [][]byte) *cSecrets {
	s := &cSecrets{count: len(secrets)}
	if len(secrets) == 0 {
		return s
	}
	s.arr = (*C.wfc_bytes)(C.calloc(C.size_t(len(secrets)), C.size_t(unsafe.Sizeof(C.wfc_bytes{}))))
	items := unsafe.Slice(s.arr, len(secrets))
	for i, secret := range secrets {
		var p unsafe.Pointer
		if len(secret) > 0 {
			p = C.CBytes(secret)
		}
		s.data = append(s.data, p)
		s.lens = append(s.lens, len(secret))
		items[i].data = (*C.uint8_t)(p)
		items[i].len = C.size_t(len(secret))
	}
	return s
}

func (s *cSecrets) free() {
	for i, p := range s.data {
		C.wfc_go_wipe_free(p, C.size_t(s.lens[i]))
	}
	C.free(unsafe.Pointer(s.arr))
	s.arr, s.data = nil, nil
}

func unixSeconds(t interface{ Unix() int64 }) C.int64_t { return C.int64_t(t.Unix()) }
