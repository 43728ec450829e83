package waflows

// #include <wa_flows_crypto.h>
import "C"

import (
	"encoding/json"
	"runtime"
)

// Request is a decrypted request: its plaintext and the key to answer it with. Immutable and
// safe to share; Close zeroizes its AES key (a finaliser does so otherwise).
type Request struct {
	ptr *C.wfc_decrypted_request
}

// DecryptRequest decrypts a Flows POST body (the JSON with encrypted_flow_data,
// encrypted_aes_key, initial_vector) with a *PrivateKey or a *KeyRing. Errors, all HTTP 421:
// malformed, key_unwrap, payload_auth.
func DecryptRequest(body []byte, key Decrypter) (*Request, error) {
	var p *C.wfc_decrypted_request
	b, n := in(body)
	var err error
	switch k := key.(type) {
	case *PrivateKey:
		var kp *C.wfc_private_key
		if k != nil {
			kp = k.ptr
		}
		err = call(func() C.wfc_status { return C.wfc_decrypt_request(b, n, kp, &p) })
	case *KeyRing:
		var rp *C.wfc_key_ring
		if k != nil {
			rp = k.ptr
		}
		err = call(func() C.wfc_status { return C.wfc_key_ring_decrypt_request(b, n, rp, &p) })
	default:
		err = call(func() C.wfc_status { return C.wfc_decrypt_request(b, n, nil, &p) })
	}
	runtime.KeepAlive(key)
	runtime.KeepAlive(body)
	if err != nil {
		return nil, err
	}
	r := &Request{ptr: p}
	runtime.SetFinalizer(r, (*Request).Close)
	return r, nil
}

// Close zeroizes and releases the request.
func (r *Request) Close() error {
	if r != nil && r.ptr != nil {
		C.wfc_decrypted_request_free(r.ptr)
		r.ptr = nil
		runtime.SetFinalizer(r, nil)
	}
	return nil
}

func (r *Request) out(hint int, f func(*C.wfc_decrypted_request, *C.uint8_t, C.size_t, *C.size_t) C.wfc_status) ([]byte, error) {
	defer runtime.KeepAlive(r)
	return copyOut(hint, func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status { return f(r.ptr, o, c, n) })
}

// Plaintext is the decrypted JSON text, exactly as WhatsApp sent it.
func (r *Request) Plaintext() string {
	b, _ := r.out(int(C.wfc_decrypted_request_plaintext_len(r.ptr)), func(p *C.wfc_decrypted_request, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypted_request_plaintext(p, o, c, n)
	})
	return string(b)
}

// AESKey is the request's 16-byte AES key: a secret, wipe it when done.
func (r *Request) AESKey() []byte {
	b, _ := r.out(C.WFC_AES_KEY_LEN, func(p *C.wfc_decrypted_request, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypted_request_aes_key(p, o, c, n)
	})
	return b
}

// IV is the request's 16-byte initial_vector, as it arrived.
func (r *Request) IV() []byte {
	b, _ := r.out(C.WFC_IV_LEN, func(p *C.wfc_decrypted_request, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypted_request_iv(p, o, c, n)
	})
	return b
}

// KeyIndex says which key of the ring opened the request (0, the newest, for a single key).
func (r *Request) KeyIndex() int {
	defer runtime.KeepAlive(r)
	return int(C.wfc_decrypted_request_key_index(r.ptr))
}

// Flow is the request as a Flows endpoint sees it, read by the core. Errors: malformed (421)
// when it is not a flow request (no string action; a screen, flow_token or version that is not
// a string).
func (r *Request) Flow() (*FlowRequest, error) {
	view, err := r.out(256, func(p *C.wfc_decrypted_request, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypted_request_flow(p, o, c, n)
	})
	if err != nil {
		return nil, err
	}
	return newFlowRequest(view, r.Plaintext())
}

// EncryptResponse encrypts the answer (usually JSON) and returns the HTTP body to send with
// status 200 and Content-Type text/plain.
func (r *Request) EncryptResponse(answer []byte) (string, error) {
	a, an := in(answer)
	b, err := r.out(int(C.wfc_encrypt_response_len(an)), func(p *C.wfc_decrypted_request, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypted_request_encrypt_response(p, a, an, o, c, n)
	})
	runtime.KeepAlive(answer)
	return string(b), err
}

// EncryptResponse encrypts a response with a request's raw AES key and IV (for hosts that keep
// them between decrypting and answering). Errors: malformed unless both are 16 bytes.
func EncryptResponse(answer, aesKey, iv []byte) (string, error) {
	var key *C.wfc_response_key
	k, kn := in(aesKey)
	v, vn := in(iv)
	if err := call(func() C.wfc_status { return C.wfc_response_key_new(k, kn, v, vn, &key) }); err != nil {
		return "", err
	}
	defer C.wfc_response_key_free(key)
	a, an := in(answer)
	b, err := copyOut(int(C.wfc_encrypt_response_len(an)), func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_encrypt_response(a, an, key, o, c, n)
	})
	runtime.KeepAlive(answer)
	return string(b), err
}

// ErrorNotification is an error WhatsApp reports about the endpoint's previous answer; a nil
// field was absent.
type ErrorNotification struct {
	Error        *string `json:"error"`
	ErrorMessage *string `json:"error_message"`
	ErrorKey     *string `json:"error_key"`
}

// FlowRequest is the typed view of a decrypted request, as the core reads it. Action is
// "ping", "INIT", "data_exchange", "BACK" or an unknown one as sent; Screen, FlowToken and
// Version are "" when absent (HasScreen and friends tell absent from empty); Data is the raw
// JSON of data ("null" when absent). Plaintext is the text it was read from, which
// VerifyFlowTokenSignature checks.
type FlowRequest struct {
	Action            string
	Screen            string
	Data              json.RawMessage
	FlowToken         string
	Version           string
	IsPing            bool
	ErrorNotification *ErrorNotification
	Plaintext         string
	HasScreen         bool
	HasFlowToken      bool
	HasVersion        bool
}

func newFlowRequest(view []byte, plaintext string) (*FlowRequest, error) {
	var v struct {
		Action            string             `json:"action"`
		Screen            *string            `json:"screen"`
		Data              json.RawMessage    `json:"data"`
		FlowToken         *string            `json:"flow_token"`
		Version           *string            `json:"version"`
		IsPing            bool               `json:"is_ping"`
		ErrorNotification *ErrorNotification `json:"error_notification"`
	}
	if err := json.Unmarshal(view, &v); err != nil { // never for the core's own output
		return nil, &Error{Code: "malformed", HTTPStatus: 421, Message: "malformed input: the flow view is not JSON"}
	}
	f := &FlowRequest{Action: v.Action, Data: v.Data, IsPing: v.IsPing, ErrorNotification: v.ErrorNotification, Plaintext: plaintext}
	if f.Data == nil {
		f.Data = json.RawMessage("null")
	}
	if v.Screen != nil {
		f.Screen, f.HasScreen = *v.Screen, true
	}
	if v.FlowToken != nil {
		f.FlowToken, f.HasFlowToken = *v.FlowToken, true
	}
	if v.Version != nil {
		f.Version, f.HasVersion = *v.Version, true
	}
	return f, nil
}
