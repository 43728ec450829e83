package waflows

// #include <wa_flows_crypto.h>
import "C"

import (
	"runtime"
	"unsafe"
)

// DefaultKeyBits is the key size GenerateKey uses for 0, and the one WhatsApp Flows expects.
const DefaultKeyBits = C.WFC_DEFAULT_KEY_BITS

// PrivateKey is the business private key (RSA, 2048 to 8192 bits). It is immutable and safe to
// share between goroutines: load it once at start-up. Close zeroizes it; a finaliser does so
// for keys that are dropped without Close.
type PrivateKey struct{ ptr *C.wfc_private_key }

// Decrypter is what DecryptRequest and NewFlowEndpoint accept: a *PrivateKey or a *KeyRing.
type Decrypter interface{ decrypter() }

func (*PrivateKey) decrypter() {}
func (*KeyRing) decrypter()    {}

func newPrivateKey(f func(**C.wfc_private_key) C.wfc_status) (*PrivateKey, error) {
	var p *C.wfc_private_key
	if err := call(func() C.wfc_status { return f(&p) }); err != nil {
		return nil, err
	}
	k := &PrivateKey{ptr: p}
	runtime.SetFinalizer(k, (*PrivateKey).Close)
	return k, nil
}

// ParsePrivateKey loads a key from PEM (PKCS#1, PKCS#8, encrypted PKCS#8, legacy
// Proc-Type: 4,ENCRYPTED) or DER, repairing what environment variables do to PEM. passphrase
// may be nil; it is needed only for encrypted keys. Errors: invalid_key (500).
func ParsePrivateKey(pem []byte, passphrase []byte) (*PrivateKey, error) {
	return newPrivateKey(func(out **C.wfc_private_key) C.wfc_status {
		p, n := in(pem)
		pp, pn := in(passphrase)
		return C.wfc_private_key_from_pem(p, n, pp, pn, out)
	})
}

// ParsePrivateKeyDER loads a key from DER (PKCS#8, encrypted PKCS#8 or PKCS#1).
func ParsePrivateKeyDER(der []byte, passphrase []byte) (*PrivateKey, error) {
	return newPrivateKey(func(out **C.wfc_private_key) C.wfc_status {
		p, n := in(der)
		pp, pn := in(passphrase)
		return C.wfc_private_key_from_der(p, n, pp, pn, out)
	})
}

// GenerateKey makes a new key of 2048, 3072 or 4096 bits (0 means DefaultKeyBits).
func GenerateKey(bits int) (*PrivateKey, error) {
	if bits < 0 {
		bits = 1 // refused by the core, with its message
	}
	return newPrivateKey(func(out **C.wfc_private_key) C.wfc_status {
		return C.wfc_private_key_generate(C.size_t(bits), out)
	})
}

// Close zeroizes and releases the key. Using the key afterwards is an error (null_parameter).
func (k *PrivateKey) Close() error {
	if k != nil && k.ptr != nil {
		C.wfc_private_key_free(k.ptr)
		k.ptr = nil
		runtime.SetFinalizer(k, nil)
	}
	return nil
}

// Bits is the modulus size (0 after Close).
func (k *PrivateKey) Bits() int {
	defer runtime.KeepAlive(k)
	return int(C.wfc_private_key_bits(k.ptr))
}

func (k *PrivateKey) text(hint int, f func(*C.wfc_private_key, *C.uint8_t, C.size_t, *C.size_t) C.wfc_status) ([]byte, error) {
	defer runtime.KeepAlive(k)
	return copyOut(hint, func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status { return f(k.ptr, o, c, n) })
}

// PublicKeyPEM is the public key as SPKI PEM: what Meta wants uploaded.
func (k *PrivateKey) PublicKeyPEM() (string, error) {
	b, err := k.text(int(C.wfc_private_key_public_pem_len(k.ptr)), func(p *C.wfc_private_key, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_private_key_public_pem(p, o, c, n)
	})
	return string(b), err
}

// PublicKeyDER is the public key as SPKI DER.
func (k *PrivateKey) PublicKeyDER() ([]byte, error) {
	return k.text(int(C.wfc_private_key_public_der_len(k.ptr)), func(p *C.wfc_private_key, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_private_key_public_der(p, o, c, n)
	})
}

// PublicKeyFingerprint is the SHA-256 of the SPKI DER, 64 lowercase hex digits.
func (k *PrivateKey) PublicKeyFingerprint() (string, error) {
	b, err := k.text(C.WFC_FINGERPRINT_LEN, func(p *C.wfc_private_key, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_private_key_public_fingerprint(p, o, c, n)
	})
	return string(b), err
}

// PrivateKeyPEM is the key as PKCS#8 PEM, encrypted (PBES2) when passphrase is not empty. The
// result is a secret.
func (k *PrivateKey) PrivateKeyPEM(passphrase []byte) (string, error) {
	b, err := k.text(int(C.wfc_private_key_private_pem_max_len(k.ptr)), func(p *C.wfc_private_key, o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		pp, pn := in(passphrase)
		return C.wfc_private_key_private_pem(p, pp, pn, o, c, n)
	})
	return string(b), err
}

// KeyRing is several private keys, newest first, for key rotation: decryption tries them in
// order. Immutable and safe to share; it holds its own copies of the keys.
type KeyRing struct{ ptr *C.wfc_key_ring }

// NewKeyRing makes a ring of keys, newest first. Errors: invalid_configuration for no keys.
func NewKeyRing(keys ...*PrivateKey) (*KeyRing, error) {
	ptrs := make([]*C.wfc_private_key, len(keys))
	for i, k := range keys {
		if k != nil {
			ptrs[i] = k.ptr
		}
	}
	var arr **C.wfc_private_key
	if len(ptrs) > 0 {
		arr = &ptrs[0] // C pointers only, so cgo lets Go memory hold them
	}
	var p *C.wfc_key_ring
	err := call(func() C.wfc_status {
		return C.wfc_key_ring_new((**C.wfc_private_key)(unsafe.Pointer(arr)), C.size_t(len(ptrs)), &p)
	})
	runtime.KeepAlive(keys)
	if err != nil {
		return nil, err
	}
	r := &KeyRing{ptr: p}
	runtime.SetFinalizer(r, (*KeyRing).Close)
	return r, nil
}

// Len is how many keys the ring holds.
func (r *KeyRing) Len() int {
	defer runtime.KeepAlive(r)
	return int(C.wfc_key_ring_len(r.ptr))
}

// Close zeroizes and releases the ring's copies of its keys.
func (r *KeyRing) Close() error {
	if r != nil && r.ptr != nil {
		C.wfc_key_ring_free(r.ptr)
		r.ptr = nil
		runtime.SetFinalizer(r, nil)
	}
	return nil
}
