package waflows_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// vectorsDir is the repository's tests/vectors (WFC_VECTORS overrides it).
func vectorsDir() string {
	if dir := os.Getenv("WFC_VECTORS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "..", "tests", "vectors")
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadVectors(t testing.TB, file string, into interface{}) {
	t.Helper()
	var doc struct{ Vectors json.RawMessage }
	if err := json.Unmarshal(readVector(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Vectors, into); err != nil {
		t.Fatal(err)
	}
}

// sealed plays WhatsApp with Go's own crypto (independent of the library): a request body
// for publicPEM, and the means to open the endpoint's answer.
type sealed struct {
	Body   []byte
	aesKey []byte
	iv     []byte
}

func seal(t testing.TB, publicPEM string, plaintext []byte) sealed {
	t.Helper()
	block, _ := pem.Decode([]byte(publicPEM))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	aesKey, iv := make([]byte, 16), make([]byte, 16)
	rand.Read(aesKey)
	rand.Read(iv)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), aesKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	gcm := newGCM(t, aesKey)
	body, _ := json.Marshal(map[string]string{
		"encrypted_flow_data": base64.StdEncoding.EncodeToString(gcm.Seal(nil, iv, plaintext, nil)),
		"encrypted_aes_key":   base64.StdEncoding.EncodeToString(wrapped),
		"initial_vector":      base64.StdEncoding.EncodeToString(iv),
	})
	return sealed{Body: body, aesKey: aesKey, iv: iv}
}

func newGCM(t testing.TB, key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		t.Fatal(err)
	}
	return gcm
}

// open decrypts the endpoint's answer: the same key, the IV with every bit inverted.
func (s sealed) open(t testing.TB, body string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("answer is not base64: %q", body)
	}
	iv := make([]byte, 16)
	for i, b := range s.iv {
		iv[i] = ^b
	}
	out, err := newGCM(t, s.aesKey).Open(nil, iv, raw, nil)
	if err != nil {
		t.Fatal("answer does not open:", err)
	}
	return string(out)
}
