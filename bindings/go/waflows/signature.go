package waflows

// #include <wa_flows_crypto.h>
import "C"

import (
	"runtime"
	"time"
)

// VerifySignature checks an X-Hub-Signature-256 header against the raw body with any of the
// app secrets (newest first), in constant time. It returns false for a missing, malformed or
// wrong header, and an error (invalid_configuration, 500) for no secrets or an empty one.
func VerifySignature(body []byte, header string, secrets ...[]byte) (bool, error) {
	s := newSecrets(secrets)
	defer s.free()
	b, bn := in(body)
	h := []byte(header)
	hp, hn := in(h)
	err := call(func() C.wfc_status {
		return C.wfc_verify_signature_any(b, bn, hp, hn, s.arr, C.size_t(s.count), nil)
	})
	runtime.KeepAlive(body)
	runtime.KeepAlive(h)
	if e, ok := err.(*Error); ok && e.Code == "invalid_signature" {
		return false, nil
	}
	return err == nil, err
}

// Sign makes the X-Hub-Signature-256 value for body ("sha256=" and 64 hex digits), as
// WhatsApp sends it: for tests and clients.
func Sign(body, appSecret []byte) (string, error) {
	b, bn := in(body)
	k, kn := in(appSecret)
	out, err := copyOut(C.WFC_SIGNATURE_HEADER_LEN, func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_sign(b, bn, k, kn, o, c, n)
	})
	runtime.KeepAlive(body)
	runtime.KeepAlive(appSecret)
	return string(out), err
}

// The outcomes of VerifyFlowTokenSignature, and of OpenedRequest.FlowTokenSignature ("" when
// it was not checked).
const (
	FlowTokenSignatureVerified = "verified"
	FlowTokenSignatureAbsent   = "absent"
)

func flowTokenOutcome(v C.uint32_t) string {
	switch v {
	case C.WFC_FLOW_TOKEN_SIGNATURE_VERIFIED:
		return FlowTokenSignatureVerified
	case C.WFC_FLOW_TOKEN_SIGNATURE_ABSENT:
		return FlowTokenSignatureAbsent
	}
	return ""
}

// VerifyFlowTokenSignature checks data API 4.0's flow_token_signature of a decrypted request
// (its JSON text, Request.Plaintext) with any of the app secrets, at the time now. It returns
// "verified" or "absent"; errors: invalid_flow_token_signature (427), malformed (not a flow
// request), invalid_configuration (no secrets or an empty one).
func VerifyFlowTokenSignature(request []byte, now time.Time, secrets ...[]byte) (string, error) {
	s := newSecrets(secrets)
	defer s.free()
	r, rn := in(request)
	var outcome C.wfc_flow_token_signature
	err := call(func() C.wfc_status {
		return C.wfc_verify_flow_token_signature(r, rn, s.arr, C.size_t(s.count), unixSeconds(now), &outcome)
	})
	runtime.KeepAlive(request)
	if err != nil {
		return "", err
	}
	return flowTokenOutcome(C.uint32_t(outcome)), nil
}

// SignFlowToken makes a flow_token_signature as Flows does (an HS256 JWT over
// {"flow_token": ...}), with an exp claim when exp is not the zero time: for clients and tests.
func SignFlowToken(flowToken, appSecret []byte, exp time.Time) (string, error) {
	t, tn := in(flowToken)
	k, kn := in(appSecret)
	var hasExp C.uint8_t
	if !exp.IsZero() {
		hasExp = 1
	}
	out, err := copyOut(256, func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_sign_flow_token(t, tn, k, kn, hasExp, unixSeconds(exp), o, c, n)
	})
	runtime.KeepAlive(flowToken)
	runtime.KeepAlive(appSecret)
	return string(out), err
}
