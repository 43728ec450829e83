package waflows_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wa-flows-crypto/wa-flows-crypto/bindings/go/waflows"
)

func mustKey(t testing.TB) *waflows.PrivateKey {
	t.Helper()
	key, err := waflows.ParsePrivateKey(readVector(t, "keys/rsa2048_pkcs8.pem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestKeys(t *testing.T) {
	key := mustKey(t)
	pem, err := key.PublicKeyPEM()
	if err != nil || pem != string(readVector(t, "keys/rsa2048_public.pem")) {
		t.Fatalf("public key PEM: %q %v", pem, err)
	}
	if fp, err := key.PublicKeyFingerprint(); err != nil || len(fp) != 64 {
		t.Fatal(fp, err)
	}
	if key.Bits() != 2048 {
		t.Fatal(key.Bits())
	}
	// Env-var damage is repaired by the core: literal \n escapes and quotes.
	damaged := `"` + strings.ReplaceAll(string(readVector(t, "keys/rsa2048_pkcs8.pem")), "\n", `\n`) + `"`
	if k, err := waflows.ParsePrivateKey([]byte(damaged), nil); err != nil || k.Bits() != 2048 {
		t.Fatal("damaged PEM:", err)
	}
	encrypted, err := key.PrivateKeyPEM([]byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waflows.ParsePrivateKey([]byte(encrypted), nil); asError(t, err).Code != "invalid_key" {
		t.Fatal(err)
	}
	again, err := waflows.ParsePrivateKey([]byte(encrypted), []byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := again.PublicKeyPEM(); p != pem {
		t.Fatal("round trip changed the key")
	}
	der, err := key.PrivateKeyDER()
	if err != nil || !bytes.Equal(der, readVector(t, "keys/rsa2048_pkcs8.der")) {
		t.Fatal("private DER:", err)
	}
	for _, bad := range [][]byte{nil, []byte("not a key"), readVector(t, "keys/rsa2048_public.pem")} {
		_, err := waflows.ParsePrivateKey(bad, nil)
		if e := asError(t, err); e.Code != "invalid_key" || e.HTTPStatus != 500 {
			t.Fatal(e)
		}
	}
	if _, err := waflows.GenerateKey(1000); asError(t, err).Code != "invalid_key" {
		t.Fatal(err)
	}
	fresh, err := waflows.GenerateKey(0)
	if err != nil || fresh.Bits() != waflows.DefaultKeyBits {
		t.Fatal(err)
	}
	fresh.Close()
	fresh.Close()
	// After Close the handle is gone: the core says so, no crash.
	if _, err := fresh.PublicKeyPEM(); asError(t, err).Code != "null_parameter" {
		t.Fatal(err)
	}
	if _, err := waflows.NewKeyRing(); asError(t, err).Code != "invalid_configuration" {
		t.Fatal(err)
	}
	if waflows.Version() == "" {
		t.Fatal("no version")
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := waflows.DecryptRequest([]byte("{}"), mustKey(t))
	wrapped := fmt.Errorf("handling: %w", err)
	var e *waflows.Error
	if !errors.As(wrapped, &e) || e.Code != "malformed" || e.HTTPStatus != 421 || !strings.Contains(wrapped.Error(), e.Message) {
		t.Fatalf("%#v", err)
	}
	if _, err := waflows.DecryptRequest([]byte("{}"), nil); asError(t, err).Code != "null_parameter" {
		t.Fatal(err)
	}
}

// One key and one ring shared by many goroutines give exactly what one goroutine gets, and the
// error messages stay with their own calls (the C library keeps them per thread).
func TestSharedKeyAcrossGoroutines(t *testing.T) {
	var vectors []requestVector
	loadVectors(t, "requests.json", &vectors)
	key := mustKey(t)
	ring, err := waflows.NewKeyRing(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	type result struct{ plaintext, code, message, answer string }
	run := func(v requestVector, via waflows.Decrypter) result {
		r, err := waflows.DecryptRequest(v.Request, via)
		if err != nil {
			var e *waflows.Error
			errors.As(err, &e)
			return result{code: e.Code, message: e.Message}
		}
		defer r.Close()
		f, err := r.Flow()
		answer := "no flow view"
		if err == nil {
			answer = f.Action
		}
		return result{plaintext: r.Plaintext(), answer: answer}
	}
	var single []result
	var usable []requestVector
	for _, v := range vectors {
		if v.Key == "keys/rsa2048_pkcs8.pem" && v.Passphrase == nil {
			usable = append(usable, v)
			single = append(single, run(v, key))
		}
	}
	var wg sync.WaitGroup
	failures := make(chan string, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for i, v := range usable {
					var via waflows.Decrypter = key
					if (g+i)%2 == 1 {
						via = ring
					}
					if got := run(v, via); got != single[i] {
						failures <- fmt.Sprintf("%s in goroutine %d: %+v, want %+v", v.Name, g, got, single[i])
					}
					runtime.Gosched()
				}
			}
		}(g)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
}

func TestFlowEndpoint(t *testing.T) {
	key := mustKey(t)
	pem, _ := key.PublicKeyPEM()
	secret := []byte("app-secret")
	endpoint, err := waflows.NewFlowEndpoint(key, [][]byte{secret}, waflows.PolicyIfPresent)
	if err != nil {
		t.Fatal(err)
	}
	defer endpoint.Close()
	s := seal(t, pem, []byte(`{"version":"3.0","action":"ping"}`))
	header, _ := waflows.Sign(s.Body, secret)
	opened, err := endpoint.Open(s.Body, header, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	answer, ok := opened.AutomaticResponse()
	if !ok || answer != `{"data":{"status":"active"}}` || opened.FlowTokenSignature() != "absent" || opened.KeyIndex() != 0 {
		t.Fatal(answer, ok, opened.FlowTokenSignature())
	}
	body, err := opened.Respond([]byte(answer))
	if err != nil || s.open(t, body) != answer {
		t.Fatal(err)
	}
	for _, h := range []string{"", "sha256=00", header + "0"} {
		_, err := endpoint.Open(s.Body, h, time.Now())
		if e := asError(t, err); e.Code != "invalid_signature" || e.HTTPStatus != 432 {
			t.Fatal(e)
		}
	}
	init := seal(t, pem, []byte(`{"version":"3.0","action":"INIT","flow_token":"tok"}`))
	header, _ = waflows.Sign(init.Body, secret)
	opened, err = endpoint.Open(init.Body, header, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := opened.AutomaticResponse(); ok {
		t.Fatal("INIT has no automatic answer")
	}
	status, body, err := opened.FlowTokenError("expired")
	if err != nil || status != 427 || init.open(t, body) != `{"error_msg":"expired"}` {
		t.Fatal(status, err)
	}
	for _, bad := range []struct {
		secrets [][]byte
		policy  string
	}{{[][]byte{{}}, ""}, {nil, "required"}, {[][]byte{secret}, "sometimes"}} {
		_, err := waflows.NewFlowEndpoint(key, bad.secrets, bad.policy)
		if e := asError(t, err); e.Code != "invalid_configuration" || e.HTTPStatus != 500 {
			t.Fatal(e)
		}
	}
}
