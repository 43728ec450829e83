package waflows

// #include <wa_flows_crypto.h>
import "C"

import (
	"runtime"
	"time"
)

// The flow token signature policies of NewFlowEndpoint, named as in every runtime.
const (
	PolicyIfPresent = "if_present"
	PolicyRequired  = "required"
	PolicyOff       = "off"
)

// FlowTokenErrorStatus is the status of the answer OpenedRequest.FlowTokenError makes.
const FlowTokenErrorStatus = C.WFC_FLOW_TOKEN_ERROR_STATUS

// FlowEndpoint is a Flows endpoint's cryptography, configured once: a key or key ring, the app
// secrets (newest first) and the flow token signature policy. Immutable and safe to share; it
// holds its own copies of the keys and secrets.
type FlowEndpoint struct{ ptr *C.wfc_flow_endpoint }

// NewFlowEndpoint configures an endpoint. No secrets means request signatures are not checked
// (and nor are flow token signatures). policy is "if_present" (also for ""), "required" or
// "off". Errors: invalid_configuration (500) for an empty secret, an unknown policy, or
// "required" without a secret.
func NewFlowEndpoint(key Decrypter, appSecrets [][]byte, policy string) (*FlowEndpoint, error) {
	var ring *KeyRing
	switch k := key.(type) {
	case *KeyRing:
		ring = k
	case *PrivateKey:
		r, err := NewKeyRing(k)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		ring = r
	}
	var ringPtr *C.wfc_key_ring
	if ring != nil {
		ringPtr = ring.ptr
	}
	var p C.uint32_t
	switch policy {
	case PolicyIfPresent, "":
		p = C.WFC_FLOW_TOKEN_SIGNATURE_POLICY_IF_PRESENT
	case PolicyRequired:
		p = C.WFC_FLOW_TOKEN_SIGNATURE_POLICY_REQUIRED
	case PolicyOff:
		p = C.WFC_FLOW_TOKEN_SIGNATURE_POLICY_OFF
	default:
		p = ^C.uint32_t(0) // a number the core does not know: it refuses it, with its message
	}
	s := newSecrets(appSecrets)
	defer s.free()
	var e *C.wfc_flow_endpoint
	err := call(func() C.wfc_status { return C.wfc_flow_endpoint_new(ringPtr, s.arr, C.size_t(s.count), p, &e) })
	runtime.KeepAlive(key)
	if err != nil {
		return nil, err
	}
	endpoint := &FlowEndpoint{ptr: e}
	runtime.SetFinalizer(endpoint, (*FlowEndpoint).Close)
	return endpoint, nil
}

// Close zeroizes and releases the endpoint's keys and secrets.
func (e *FlowEndpoint) Close() error {
	if e != nil && e.ptr != nil {
		C.wfc_flow_endpoint_free(e.ptr)
		e.ptr = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

// Open runs every check on one POST in the protocol's order: the X-Hub-Signature-256 header
// over the raw body (432; "" is an absent header), decryption (421), the flow request (421),
// the flow token signature (427). The error's HTTPStatus is the answer to send.
func (e *FlowEndpoint) Open(body []byte, signatureHeader string, now time.Time) (*OpenedRequest, error) {
	b, bn := in(body)
	h := []byte(signatureHeader)
	hp, hn := in(h)
	var o *C.wfc_opened_request
	err := call(func() C.wfc_status { return C.wfc_flow_endpoint_open(e.ptr, b, bn, hp, hn, unixSeconds(now), &o) })
	runtime.KeepAlive(e)
	runtime.KeepAlive(body)
	runtime.KeepAlive(h)
	if err != nil {
		return nil, err
	}
	opened := &OpenedRequest{ptr: o}
	runtime.SetFinalizer(opened, (*OpenedRequest).Close)
	return opened, nil
}

// OpenedRequest is a request that passed every check of FlowEndpoint.Open.
type OpenedRequest struct{ ptr *C.wfc_opened_request }

// Close zeroizes and releases the request's key.
func (o *OpenedRequest) Close() error {
	if o != nil && o.ptr != nil {
		C.wfc_opened_request_free(o.ptr)
		o.ptr = nil
		runtime.SetFinalizer(o, nil)
	}
	return nil
}

func (o *OpenedRequest) out(hint int, f func(*C.wfc_opened_request, *C.uint8_t, C.size_t, *C.size_t) C.wfc_status) ([]byte, error) {
	defer runtime.KeepAlive(o)
	return copyOut(hint, func(out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status { return f(o.ptr, out, c, n) })
}

// Plaintext is the decrypted JSON text, exactly as WhatsApp sent it.
func (o *OpenedRequest) Plaintext() string {
	b, _ := o.out(1024, func(p *C.wfc_opened_request, out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_opened_request_plaintext(p, out, c, n)
	})
	return string(b)
}

// Flow is the request as a Flows endpoint sees it (Open already checked that it is one).
func (o *OpenedRequest) Flow() (*FlowRequest, error) {
	view, err := o.out(1024, func(p *C.wfc_opened_request, out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_opened_request_flow(p, out, c, n)
	})
	if err != nil {
		return nil, err
	}
	return newFlowRequest(view, o.Plaintext())
}

// KeyIndex says which key of the ring opened the request (0 is the newest).
func (o *OpenedRequest) KeyIndex() int {
	defer runtime.KeepAlive(o)
	return int(C.wfc_opened_request_key_index(o.ptr))
}

// FlowTokenSignature is "verified", "absent", or "" when it was not checked (policy off, or no
// app secret).
func (o *OpenedRequest) FlowTokenSignature() string {
	defer runtime.KeepAlive(o)
	return flowTokenOutcome(C.wfc_opened_request_flow_token_signature(o.ptr))
}

// AutomaticResponse is the answer the protocol fixes for a ping or an error notification, and
// false when the flow must answer itself. Send it with Respond.
func (o *OpenedRequest) AutomaticResponse() (string, bool) {
	b, err := o.out(64, func(p *C.wfc_opened_request, out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_opened_request_automatic_response(p, out, c, n)
	})
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// Respond encrypts the answer: the base64 body to send with status 200, text/plain.
func (o *OpenedRequest) Respond(answer []byte) (string, error) {
	a, an := in(answer)
	b, err := o.out(int(C.wfc_encrypt_response_len(an)), func(p *C.wfc_opened_request, out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_opened_request_respond(p, a, an, out, c, n)
	})
	runtime.KeepAlive(answer)
	return string(b), err
}

// FlowTokenError is the answer for a flow token the application finds expired or invalid:
// FlowTokenErrorStatus (427) and the encrypted {"error_msg": message} WhatsApp shows the user.
func (o *OpenedRequest) FlowTokenError(message string) (int, string, error) {
	m := []byte(message)
	mp, mn := in(m)
	b, err := o.out(int(C.wfc_encrypt_response_len(mn))+64, func(p *C.wfc_opened_request, out *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_opened_request_flow_token_error(p, mp, mn, out, c, n)
	})
	runtime.KeepAlive(m)
	return FlowTokenErrorStatus, string(b), err
}
