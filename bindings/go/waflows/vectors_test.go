package waflows_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/wa-flows-crypto/wa-flows-crypto/bindings/go/waflows"
)

type outcome struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	Plaintext string `json:"plaintext"`
	AESKeyHex string `json:"aes_key_hex"`
	IVHex     string `json:"iv_hex"`
	File      string `json:"plaintext_file"`
	Signature string `json:"signature"`
}

type requestVector struct {
	Name       string          `json:"name"`
	Key        string          `json:"key"`
	Passphrase *string         `json:"passphrase"`
	Request    json.RawMessage `json:"request"`
	Expect     outcome         `json:"expect"`
}

const otherKey = "keys/rsa2048_other.pem"

func errorMatches(name, code, expected string) bool {
	switch {
	case code == expected:
		return true
	case name == "wrapped_key_wrong_length":
		return code == "malformed" || code == "key_unwrap"
	case expected == "padding_or_plaintext_hash":
		return code == "padding" || code == "plaintext_hash_mismatch"
	}
	return false
}

func asError(t *testing.T, err error) *waflows.Error {
	t.Helper()
	var e *waflows.Error
	if !errors.As(err, &e) {
		t.Fatalf("not a *waflows.Error: %#v", err)
	}
	if e.Message == "" || e.Error() == "" {
		t.Fatalf("error without a message: %#v", e)
	}
	return e
}

func loadKey(t *testing.T, path string, passphrase *string) (*waflows.PrivateKey, error) {
	data := readVector(t, path)
	var pass []byte
	if passphrase != nil {
		pass = []byte(*passphrase)
	}
	if strings.HasSuffix(path, ".der") {
		return waflows.ParsePrivateKeyDER(data, pass)
	}
	return waflows.ParsePrivateKey(data, pass)
}

func TestRequestVectors(t *testing.T) {
	var vectors []requestVector
	loadVectors(t, "requests.json", &vectors)
	other, err := loadKey(t, otherKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			key, err := loadKey(t, v.Key, v.Passphrase)
			if err != nil {
				e := asError(t, err)
				if v.Expect.OK || !errorMatches(v.Name, e.Code, v.Expect.Error) || e.HTTPStatus != 500 {
					t.Fatalf("key: %+v, want %+v", e, v.Expect)
				}
				return
			}
			defer key.Close()
			ring, err := waflows.NewKeyRing(other, key)
			if err != nil {
				t.Fatal(err)
			}
			defer ring.Close()
			if ring.Len() != 2 {
				t.Fatal("ring length", ring.Len())
			}
			for _, via := range []waflows.Decrypter{key, ring} {
				r, err := waflows.DecryptRequest(v.Request, via)
				if !v.Expect.OK {
					e := asError(t, err)
					if !errorMatches(v.Name, e.Code, v.Expect.Error) || e.HTTPStatus != 421 {
						t.Fatalf("%T: got %+v, want %s", via, e, v.Expect.Error)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%T: %v", via, err)
				}
				if r.Plaintext() != v.Expect.Plaintext || hex.EncodeToString(r.AESKey()) != v.Expect.AESKeyHex || hex.EncodeToString(r.IV()) != v.Expect.IVHex {
					t.Fatalf("%T: wrong plaintext, key or IV", via)
				}
				wantIndex := 0
				if _, isRing := via.(*waflows.KeyRing); isRing && v.Key != otherKey {
					wantIndex = 1
				}
				if r.KeyIndex() != wantIndex {
					t.Fatalf("%T: key index %d, want %d", via, r.KeyIndex(), wantIndex)
				}
				// The separate steps agree.
				parsed, err := waflows.ParseRequest(v.Request)
				if err != nil {
					t.Fatal(err)
				}
				if k, ok := via.(*waflows.PrivateKey); ok {
					aesKey, err := waflows.UnwrapAESKey(parsed.EncryptedAESKey(), k)
					if err != nil || !bytes.Equal(aesKey, r.AESKey()) {
						t.Fatal("unwrap:", err)
					}
					again, err := waflows.DecryptPayload(parsed, aesKey)
					if err != nil || again.Plaintext() != r.Plaintext() {
						t.Fatal("decrypt payload:", err)
					}
				}
				parsed.Close()
				r.Close()
				r.Close() // twice is harmless
			}
		})
	}
}

func TestFlowViewOfTheRequestVectors(t *testing.T) {
	var vectors []requestVector
	loadVectors(t, "requests.json", &vectors)
	key, err := loadKey(t, "keys/rsa2048_pkcs8.pem", nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]requestVector{}
	for _, v := range vectors {
		byName[v.Name] = v
	}
	flow := func(name string) *waflows.FlowRequest {
		r, err := waflows.DecryptRequest(byName[name].Request, key)
		if err != nil {
			t.Fatal(name, err)
		}
		f, err := r.Flow()
		if err != nil {
			t.Fatal(name, err)
		}
		return f
	}
	if ping := flow("ping"); ping.Action != "ping" || !ping.IsPing || ping.ErrorNotification != nil {
		t.Fatalf("ping: %+v", ping)
	}
	n := flow("error_notification")
	if n.ErrorNotification == nil || *n.ErrorNotification.Error != "INVALID_SCREEN_TRANSITION" ||
		*n.ErrorNotification.ErrorMessage != "screen X not found" || n.ErrorNotification.ErrorKey != nil ||
		n.FlowToken != "flow-token-public" || n.Version != "3.0" {
		t.Fatalf("error notification: %+v", n)
	}
	for _, name := range []string{"init", "data_exchange", "back", "unicode", "photo_picker"} {
		f := flow(name)
		var sent struct {
			Screen    *string         `json:"screen"`
			Data      json.RawMessage `json:"data"`
			FlowToken *string         `json:"flow_token"`
		}
		json.Unmarshal([]byte(byName[name].Expect.Plaintext), &sent)
		if f.Plaintext != byName[name].Expect.Plaintext || f.IsPing || f.ErrorNotification != nil {
			t.Fatalf("%s: %+v", name, f)
		}
		if (sent.Screen != nil) != f.HasScreen || (sent.Screen != nil && *sent.Screen != f.Screen) {
			t.Fatalf("%s: screen %q", name, f.Screen)
		}
		if (sent.FlowToken != nil) != f.HasFlowToken || (sent.FlowToken != nil && *sent.FlowToken != f.FlowToken) {
			t.Fatalf("%s: flow token %q", name, f.FlowToken)
		}
		if !jsonEqual(sent.Data, f.Data) {
			t.Fatalf("%s: data %s, sent %s", name, f.Data, sent.Data)
		}
	}
	// Not one JSON object with a string action: malformed, 421, from the core.
	r, err := waflows.DecryptRequest(byName["payload_array"].Request, key)
	if err == nil {
		_, err = r.Flow()
	}
	if e := asError(t, err); e.Code != "malformed" || e.HTTPStatus != 421 {
		t.Fatal(e)
	}
}

func jsonEqual(a, b []byte) bool {
	if len(a) == 0 {
		a = []byte("null")
	}
	var x, y interface{}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}

func TestResponseVectors(t *testing.T) {
	var vectors []struct {
		Name, Plaintext string
		AESKeyHex       string `json:"aes_key_hex"`
		RequestIVHex    string `json:"request_iv_hex"`
		ExpectedBody    string `json:"expected_body"`
	}
	loadVectors(t, "responses.json", &vectors)
	for _, v := range vectors {
		key, _ := hex.DecodeString(v.AESKeyHex)
		iv, _ := hex.DecodeString(v.RequestIVHex)
		got, err := waflows.EncryptResponse([]byte(v.Plaintext), key, iv)
		if err != nil || got != v.ExpectedBody {
			t.Fatalf("%s: %q %v", v.Name, got, err)
		}
	}
	if _, err := waflows.EncryptResponse([]byte("{}"), make([]byte, 15), make([]byte, 16)); asError(t, err).Code != "malformed" {
		t.Fatal(err)
	}
}

func TestSignatureVectors(t *testing.T) {
	var vectors []struct {
		Name, Header string
		AppSecret    string `json:"app_secret"`
		BodyB64      string `json:"body_b64"`
		Valid        bool
	}
	loadVectors(t, "signatures.json", &vectors)
	for _, v := range vectors {
		body, _ := base64.StdEncoding.DecodeString(v.BodyB64)
		secret := []byte(v.AppSecret)
		for _, secrets := range [][][]byte{{secret}, {[]byte("another secret"), secret}, {secret, []byte("another")}} {
			ok, err := waflows.VerifySignature(body, v.Header, secrets...)
			if err != nil || ok != v.Valid {
				t.Fatalf("%s: %v %v", v.Name, ok, err)
			}
		}
		if ok, err := waflows.VerifySignature(body, v.Header, []byte("another secret")); ok || err != nil {
			t.Fatalf("%s: another secret: %v %v", v.Name, ok, err)
		}
		if v.Name == "valid" {
			if got, err := waflows.Sign(body, secret); err != nil || got != v.Header {
				t.Fatal("sign", got, err)
			}
		}
	}
	for _, secrets := range [][][]byte{nil, {[]byte("")}, {[]byte("ok"), nil}} {
		_, err := waflows.VerifySignature([]byte("{}"), "sha256=00", secrets...)
		if e := asError(t, err); e.Code != "invalid_configuration" || e.HTTPStatus != 500 {
			t.Fatal(e)
		}
	}
}

func TestFlowTokenVectors(t *testing.T) {
	var vectors []struct {
		Name, Request string
		AppSecret     string `json:"app_secret"`
		Now           int64
		Expect        outcome
	}
	loadVectors(t, "flow_token.json", &vectors)
	for _, v := range vectors {
		now := time.Unix(v.Now, 0)
		for _, secrets := range [][][]byte{{[]byte(v.AppSecret)}, {[]byte("an older secret"), []byte(v.AppSecret)}} {
			got, err := waflows.VerifyFlowTokenSignature([]byte(v.Request), now, secrets...)
			if v.Expect.OK {
				if err != nil || got != v.Expect.Signature {
					t.Fatalf("%s: %q %v", v.Name, got, err)
				}
			} else if e := asError(t, err); e.Code != v.Expect.Error || e.HTTPStatus != 427 {
				t.Fatalf("%s: %+v", v.Name, e)
			}
		}
		if v.Name == "valid" {
			var req struct {
				FlowToken string `json:"flow_token"`
				Signature string `json:"flow_token_signature"`
			}
			json.Unmarshal([]byte(v.Request), &req)
			if got, err := waflows.SignFlowToken([]byte(req.FlowToken), []byte(v.AppSecret), time.Time{}); err != nil || got != req.Signature {
				t.Fatalf("sign_flow_token: %q %v", got, err)
			}
		}
	}
}

type mediaVector struct {
	Name, File string
	Metadata   json.RawMessage
	Expect     outcome
}

func TestMediaVectors(t *testing.T) {
	var vectors []mediaVector
	loadVectors(t, "media.json", &vectors)
	for _, v := range vectors {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			file := readVector(t, v.File)
			var want []byte
			if v.Expect.OK {
				want = readVector(t, v.Expect.File)
			}
			check := func(how string, got []byte, err error) {
				t.Helper()
				if v.Expect.OK {
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s: %d bytes, %v", how, len(got), err)
					}
					return
				}
				if len(got) != 0 {
					t.Fatalf("%s: released %d bytes of a file that does not verify", how, len(got))
				}
				e := asError(t, err)
				if !errorMatches(v.Name, e.Code, v.Expect.Error) {
					t.Fatalf("%s: %+v, want %s", how, e, v.Expect.Error)
				}
				if e.Code != "malformed" && e.HTTPStatus != 0 {
					t.Fatalf("%s: media errors are not request-level: %+v", how, e)
				}
			}
			got, err := waflows.DecryptMediaContent(file, v.Metadata)
			check("whole", got, err)
			for _, chunk := range []int{7, 4096, 1 << 20} {
				got, err := streamed(v.Metadata, file, chunk)
				check("decryptor", got, err)
			}
			// The reader, seekable (two passes) and not (held back), in odd-sized reads.
			for name, src := range map[string]func() io.Reader{
				"seekable": func() io.Reader { return bytes.NewReader(file) },
				"stream":   func() io.Reader { return iotest.HalfReader(bytes.NewBuffer(append([]byte(nil), file...))) },
			} {
				r, err := waflows.NewMediaReader(src(), v.Metadata)
				if err != nil {
					check(name, nil, err)
					continue
				}
				got, err := io.ReadAll(iotest.OneByteReader(r))
				r.Close()
				check(name, got, err)
			}
		})
	}
}

// streamed feeds the decryptor chunk by chunk, and (as a caller must) drops everything if
// Finish fails.
func streamed(metadata, file []byte, chunk int) ([]byte, error) {
	d, err := waflows.NewMediaDecryptor(metadata)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []byte
	for i := 0; i < len(file); i += chunk {
		end := i + chunk
		if end > len(file) {
			end = len(file)
		}
		part, err := d.Update(file[i:end])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	last, err := d.Finish()
	if err != nil {
		return nil, err
	}
	if d.BytesProcessed() != int64(len(file)) {
		return nil, errors.New("bytes processed")
	}
	if _, err := d.Finish(); err == nil {
		return nil, errors.New("finish twice")
	}
	return append(out, last...), nil
}
