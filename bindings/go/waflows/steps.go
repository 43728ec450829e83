package waflows

// #include <wa_flows_crypto.h>
import "C"

import "runtime"

// EncryptedRequest is a request body parsed and length-checked but not decrypted: for hosts
// that unwrap the AES key themselves (an HSM, a KMS) and then call DecryptPayload.
type EncryptedRequest struct{ ptr *C.wfc_encrypted_request }

// ParseRequest parses a POST body without decrypting it. Errors: malformed (421), naming the
// field.
func ParseRequest(body []byte) (*EncryptedRequest, error) {
	b, n := in(body)
	var p *C.wfc_encrypted_request
	err := call(func() C.wfc_status { return C.wfc_encrypted_request_from_json(b, n, &p) })
	runtime.KeepAlive(body)
	if err != nil {
		return nil, err
	}
	e := &EncryptedRequest{ptr: p}
	runtime.SetFinalizer(e, (*EncryptedRequest).Close)
	return e, nil
}

// EncryptedAESKey is the RSA-OAEP-wrapped AES key, decoded from base64.
func (e *EncryptedRequest) EncryptedAESKey() []byte {
	defer runtime.KeepAlive(e)
	b, _ := copyOut(int(C.wfc_encrypted_request_encrypted_aes_key_len(e.ptr)), func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_encrypted_request_encrypted_aes_key(e.ptr, o, c, n)
	})
	return b
}

// Close releases the parsed request.
func (e *EncryptedRequest) Close() error {
	if e != nil && e.ptr != nil {
		C.wfc_encrypted_request_free(e.ptr)
		e.ptr = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

// UnwrapAESKey is step one on its own: RSA-OAEP-SHA256 unwraps the 16-byte AES key (a secret).
// Errors: key_unwrap, or malformed when the key inside is not 16 bytes.
func UnwrapAESKey(encryptedAESKey []byte, key *PrivateKey) ([]byte, error) {
	var kp *C.wfc_private_key
	if key != nil {
		kp = key.ptr
	}
	w, wn := in(encryptedAESKey)
	out, err := copyOut(C.WFC_AES_KEY_LEN, func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_unwrap_aes_key(w, wn, kp, o, c, n)
	})
	runtime.KeepAlive(key)
	runtime.KeepAlive(encryptedAESKey)
	return out, err
}

// DecryptPayload is step two on its own: opens the request's encrypted_flow_data with an AES key
// unwrapped by UnwrapAESKey or by the host. Errors: malformed, payload_auth.
func DecryptPayload(request *EncryptedRequest, aesKey []byte) (*Request, error) {
	var rp *C.wfc_encrypted_request
	if request != nil {
		rp = request.ptr
	}
	k, kn := in(aesKey)
	var p *C.wfc_decrypted_request
	err := call(func() C.wfc_status { return C.wfc_decrypt_payload(rp, k, kn, &p) })
	runtime.KeepAlive(request)
	runtime.KeepAlive(aesKey)
	if err != nil {
		return nil, err
	}
	r := &Request{ptr: p}
	runtime.SetFinalizer(r, (*Request).Close)
	return r, nil
}

// PrivateKeyDER is the key as unencrypted PKCS#8 DER: a secret.
func (k *PrivateKey) PrivateKeyDER() ([]byte, error) {
	return k.text(int(C.wfc_private_key_private_der_len(k.ptr)), func(p *C.wfc_private_key, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_private_key_private_der(p, o, c, n)
	})
}
