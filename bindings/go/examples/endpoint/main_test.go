package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wa-flows-crypto/wa-flows-crypto/bindings/go/waflows"
)

// The endpoint end to end over HTTP, as the specification's test plan plays it: WhatsApp's
// side is Go's own crypto, the CDN a local server holding the vectors' media files.

var vectors = filepath.Join("..", "..", "..", "..", "tests", "vectors")

const appSecret = "example-app-secret"

func vectorFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func envOf(vars map[string]string) env {
	return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
}

type client struct {
	t      *testing.T
	url    string
	public string // PEM of the key requests are sealed for
}

type sealedRequest struct {
	body       []byte
	aesKey, iv []byte
}

func (c *client) seal(plaintext string) sealedRequest {
	block, _ := pem.Decode([]byte(c.public))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		c.t.Fatal(err)
	}
	s := sealedRequest{aesKey: make([]byte, 16), iv: make([]byte, 16)}
	rand.Read(s.aesKey)
	rand.Read(s.iv)
	wrapped, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), s.aesKey, nil)
	s.body, _ = json.Marshal(map[string]string{
		"encrypted_flow_data": base64.StdEncoding.EncodeToString(gcm(s.aesKey).Seal(nil, s.iv, []byte(plaintext), nil)),
		"encrypted_aes_key":   base64.StdEncoding.EncodeToString(wrapped),
		"initial_vector":      base64.StdEncoding.EncodeToString(s.iv),
	})
	return s
}

func gcm(key []byte) cipher.AEAD {
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCMWithNonceSize(block, 16)
	return g
}

func (s sealedRequest) open(t *testing.T, body string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("not base64: %q", body)
	}
	iv := make([]byte, 16)
	for i, b := range s.iv {
		iv[i] = ^b
	}
	out, err := gcm(s.aesKey).Open(nil, iv, raw, nil)
	if err != nil {
		t.Fatal("the answer does not open")
	}
	return string(out)
}

func (c *client) post(body []byte, contentType, signature string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(string(body)))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		c.t.Fatalf("Content-Type %q", ct)
	}
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func sign(body []byte) string {
	h, _ := waflows.Sign(body, []byte(appSecret))
	return h
}

// exchange seals a request, signs and posts it, and opens the 200 answer.
func (c *client) exchange(plaintext string) string {
	c.t.Helper()
	s := c.seal(plaintext)
	status, body := c.post(s.body, "application/json", sign(s.body))
	if status != 200 {
		c.t.Fatalf("%s: %d %s", plaintext, status, body)
	}
	return s.open(c.t, body)
}

func start(t *testing.T, vars map[string]string) *client {
	t.Helper()
	s, err := loadSettings(envOf(vars))
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(newHandler(s))
	t.Cleanup(server.Close)
	public, _ := s.key.PublicKeyPEM()
	return &client{t: t, url: server.URL + "/", public: public}
}

type mediaVector struct {
	Name, File string
	Metadata   json.RawMessage
	Expect     struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		File  string `json:"plaintext_file"`
	}
}

// logs collects the endpoint's log lines; TestMain checks what they must never hold.
var logs lockedLog

// lockedLog is safe for the handler's goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMain(m *testing.M) {
	logOutput = &logs
	code := m.Run()
	if code == 0 {
		for _, never := range []string{appSecret, "Ada", "size_1.jpg", "navigate", "BEGIN"} {
			if strings.Contains(logs.String(), never) {
				fmt.Printf("the log shows %q:\n%s", never, logs.String())
				code = 1
			}
		}
		for _, line := range []string{"200 ping ", "421 key_unwrap ", "432 invalid_signature ", "415 unsupported_media_type ", "200 other ", "427 invalid_flow_token_signature "} {
			if !strings.Contains(logs.String(), "flow endpoint: "+line) {
				fmt.Printf("no log line %q:\n%s", line, logs.String())
				code = 1
			}
		}
	}
	os.Exit(code)
}

func TestEndpoint(t *testing.T) {
	var doc struct{ Vectors []mediaVector }
	json.Unmarshal(vectorFile(t, "media.json"), &doc)
	media := map[string]mediaVector{}
	for _, v := range doc.Vectors {
		media[v.Name] = v
	}
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(vectorFile(t, media[strings.TrimPrefix(r.URL.Path, "/")].File))
	}))
	defer cdn.Close()
	previousKey := string(vectorFile(t, "keys/rsa2048_other.pem"))
	c := start(t, map[string]string{
		"PRIVATE_KEY_FILE":     filepath.Join(vectors, "keys/rsa2048_pkcs8_aes256.pem"),
		"PASSPHRASE":           "flows-public-passphrase",
		"PREVIOUS_PRIVATE_KEY": strings.ReplaceAll(previousKey, "\n", `\n`), // as an env var mangles it
		"APP_SECRET":           appSecret,
		"PREVIOUS_APP_SECRET":  "the-old-secret",
		"MEDIA_ALLOW_HTTP":     "1",
	})

	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(c.url)
		if err != nil || resp.StatusCode != 200 {
			t.Fatal(err, resp.StatusCode)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		ping := c.seal(`{"version":"3.0","action":"ping"}`)
		var fields map[string]string
		json.Unmarshal(ping.body, &fields)
		wrapped, _ := base64.StdEncoding.DecodeString(fields["encrypted_aes_key"])
		wrapped[10] ^= 1
		fields["encrypted_aes_key"] = base64.StdEncoding.EncodeToString(wrapped)
		tampered, _ := json.Marshal(fields)
		for _, tc := range []struct {
			name        string
			body        []byte
			contentType string
			signature   string
			status      int
			code        string
		}{
			{"no content type", ping.body, "", sign(ping.body), 415, "unsupported_media_type"},
			{"text/plain", ping.body, "text/plain", sign(ping.body), 415, "unsupported_media_type"},
			{"too large", make([]byte, 1<<20+1), "application/json", "", 413, "body_too_large"},
			{"unsigned", ping.body, "application/json", "", 432, "invalid_signature"},
			{"wrong signature", ping.body, "Application/JSON; charset=utf-8", sign(ping.body[1:]), 432, "invalid_signature"},
			{"not JSON", []byte("nope"), "application/json", sign([]byte("nope")), 421, "malformed"},
			{"empty", []byte(""), "application/json", sign([]byte("")), 421, "malformed"},
			{"tampered key", tampered, "application/json", sign(tampered), 421, "key_unwrap"},
		} {
			status, body := c.post(tc.body, tc.contentType, tc.signature)
			if status != tc.status || body != tc.code {
				t.Errorf("%s: %d %q, want %d %q", tc.name, status, body, tc.status, tc.code)
			}
		}
		// A request for neither configured key: 421, so WhatsApp re-fetches the public key.
		stranger := &client{t: t, url: c.url, public: string(vectorFile(t, "keys/rsa2048_public.pem"))}
		other, _ := waflows.GenerateKey(2048)
		stranger.public, _ = other.PublicKeyPEM()
		s := stranger.seal(`{"version":"3.0","action":"ping"}`)
		if status, body := c.post(s.body, "application/json", sign(s.body)); status != 421 || body != "key_unwrap" {
			t.Error(status, body)
		}
		// Decrypts, but is no flow request: 421 malformed.
		s = c.seal(`["not", "an object"]`)
		if status, body := c.post(s.body, "application/json", sign(s.body)); status != 421 || body != "malformed" {
			t.Error(status, body)
		}
		s = c.seal(`{"version":"3.0","data":{}}`)
		if status, body := c.post(s.body, "application/json", sign(s.body)); status != 421 || body != "malformed" {
			t.Error(status, body)
		}
	})
	t.Run("rotation", func(t *testing.T) {
		old := &client{t: t, url: c.url}
		k, _ := waflows.ParsePrivateKey([]byte(previousKey), nil)
		old.public, _ = k.PublicKeyPEM()
		s := old.seal(`{"version":"3.0","action":"ping"}`)
		h, _ := waflows.Sign(s.body, []byte("the-old-secret"))
		status, body := c.post(s.body, "application/json", h)
		if status != 200 || s.open(t, body) != `{"data":{"status":"active"}}` {
			t.Fatal(status, body)
		}
	})
	t.Run("screens", func(t *testing.T) {
		for _, tc := range []struct{ request, answer string }{
			{`{"version":"3.0","action":"ping"}`, `{"data":{"status":"active"}}`},
			{`{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"t","data":{"error":"INVALID_SCREEN_TRANSITION","error_message":"x"}}`, `{"data":{"acknowledged":true}}`},
			{`{"version":"3.0","action":"INIT","flow_token":"t"}`, `{"data":{"error_message":""},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"BACK","screen":"SUMMARY","flow_token":"t"}`, `{"data":{"error_message":""},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"data_exchange","screen":"SUMMARY","flow_token":"tok<&>","data":{}}`, `{"data":{"extension_message_response":{"params":{"flow_token":"tok<&>"}}},"screen":"SUCCESS"}`},
			{`{"version":"3.0","action":"data_exchange","screen":"SUMMARY","data":{}}`, `{"data":{"extension_message_response":{"params":{"flow_token":""}}},"screen":"SUCCESS"}`},
			{`{"version":"3.0","action":"data_exchange","screen":"ELSEWHERE","flow_token":"t"}`, `{"data":{"error_message":"unknown screen"},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"data_exchange","flow_token":"t"}`, `{"data":{"error_message":"unknown screen"},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"navigate","flow_token":"t"}`, `{"data":{"error_message":"unsupported action"},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"t","data":{"name":"Ada","photos":{}}}`, `{"data":{"error_message":"photos is not a list"},"screen":"PROFILE"}`},
			{`{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"t","data":{"name":"Ada"}}`, `{"data":{"name":"Ada","photo_count":0,"photos":[],"summary":"0 photos, 0 bytes","total_bytes":0},"screen":"SUMMARY"}`},
		} {
			if got := c.exchange(tc.request); got != tc.answer {
				t.Errorf("%s:\n got %s\nwant %s", tc.request, got, tc.answer)
			}
		}
		many := make([]string, 31)
		for i := range many {
			many[i] = "{}"
		}
		got := c.exchange(`{"version":"3.0","action":"data_exchange","screen":"PROFILE","data":{"photos":[` + strings.Join(many, ",") + `]}}`)
		if got != `{"data":{"error_message":"too many photos: at most 30"},"screen":"PROFILE"}` {
			t.Error(got)
		}
	})
	photo := func(label, name, url string) string {
		fields := map[string]interface{}{"media_id": "1", "cdn_url": url, "encryption_metadata": media[name].Metadata}
		if label != "" {
			fields["file_name"] = label
		}
		b, _ := json.Marshal(fields)
		return string(b)
	}
	profileWith := func(photos ...string) string {
		return `{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"t","data":{"name":"Ada","photos":[` + strings.Join(photos, ",") + `]}}`
	}
	t.Run("photos", func(t *testing.T) {
		names := []string{"size_1", "size_1000", "size_1048579"}
		var photos, summaries []string
		total := 0
		for _, name := range names {
			plain := vectorFile(t, media[name].Expect.File)
			sum := sha256.Sum256(plain)
			total += len(plain)
			photos = append(photos, photo(name+".jpg", name, cdn.URL+"/"+name))
			summaries = append(summaries, fmt.Sprintf(`{"file_name":"%s.jpg","sha256":"%s","size":%d}`, name, hex.EncodeToString(sum[:]), len(plain)))
		}
		want := fmt.Sprintf(`{"data":{"name":"Ada","photo_count":3,"photos":[%s],"summary":"3 photos, %d bytes","total_bytes":%d},"screen":"SUMMARY"}`,
			strings.Join(summaries, ","), total, total)
		if got := c.exchange(profileWith(photos...)); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		for _, tc := range []struct {
			photos  []string
			message string
		}{
			{[]string{photo("a.jpg", "size_1", cdn.URL+"/size_1"), photo("", "wrong_hmac_key", cdn.URL+"/wrong_hmac_key")}, "could not read photo #2: hmac_mismatch"},
			{[]string{photo("b.jpg", "bad_padding_authentic_mac", cdn.URL+"/bad_padding_authentic_mac"), photo("c.jpg", "size_1", "ftp://x/")}, "could not read photo b.jpg: padding"},
			{[]string{photo("c.jpg", "size_1", "ftp://x/")}, "could not read photo c.jpg: cdn_url_refused"},
			{[]string{photo("d.jpg", "size_1", cdn.URL+"/missing")}, "could not read photo d.jpg: download_failed"},
			{[]string{photo("e.jpg", "bad_base64_metadata", cdn.URL+"/size_1")}, "could not read photo e.jpg: malformed"},
			{[]string{photo("f.jpg", "tampered_file_hash_checked", cdn.URL+"/tampered_file_hash_checked")}, "could not read photo f.jpg: encrypted_hash_mismatch"},
			{[]string{`{"file_name":"g.jpg"}`}, "could not read photo g.jpg: malformed"},
		} {
			want := `{"data":{"error_message":"` + tc.message + `"},"screen":"PROFILE"}`
			if got := c.exchange(profileWith(tc.photos...)); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		}
	})
	t.Run("flow token signature", func(t *testing.T) {
		token := "flow-token-42"
		valid, _ := waflows.SignFlowToken([]byte(token), []byte(appSecret), time.Now().Add(time.Hour))
		expired, _ := waflows.SignFlowToken([]byte(token), []byte(appSecret), time.Now().Add(-time.Hour))
		req := func(sig string) string {
			return fmt.Sprintf(`{"version":"4.0","action":"INIT","flow_token":%q,"flow_token_signature":%q}`, token, sig)
		}
		if got := c.exchange(req(valid)); got != `{"data":{"error_message":""},"screen":"PROFILE"}` {
			t.Error(got)
		}
		for _, sig := range []string{expired, valid + "x", "a.b.c"} {
			s := c.seal(req(sig))
			if status, body := c.post(s.body, "application/json", sign(s.body)); status != 427 || body != "invalid_flow_token_signature" {
				t.Error(status, body)
			}
		}
	})
}

func TestRequiredPolicyWithoutSecretFlowTokens(t *testing.T) {
	c := start(t, map[string]string{
		"PRIVATE_KEY":          string(vectorFile(t, "keys/rsa2048_pkcs1.pem")),
		"APP_SECRET":           appSecret,
		"FLOW_TOKEN_SIGNATURE": "required",
	})
	// A ping needs no signed token; INIT without one is refused.
	if got := c.exchange(`{"version":"3.0","action":"ping"}`); got != `{"data":{"status":"active"}}` {
		t.Fatal(got)
	}
	s := c.seal(`{"version":"3.0","action":"INIT","flow_token":"t"}`)
	if status, body := c.post(s.body, "application/json", sign(s.body)); status != 427 || body != "invalid_flow_token_signature" {
		t.Fatal(status, body)
	}
}

func TestNoAppSecret(t *testing.T) {
	c := start(t, map[string]string{"PRIVATE_KEY_FILE": filepath.Join(vectors, "keys/rsa2048_pkcs8.der")})
	s := c.seal(`{"version":"3.0","action":"INIT"}`)
	status, body := c.post(s.body, "application/json", "")
	if status != 200 || s.open(t, body) != `{"data":{"error_message":""},"screen":"PROFILE"}` {
		t.Fatal(status, body)
	}
}

func TestStartupRefusals(t *testing.T) {
	key := filepath.Join(vectors, "keys/rsa2048_pkcs8.pem")
	encrypted := filepath.Join(vectors, "keys/rsa2048_pkcs8_aes256.pem")
	for _, tc := range []struct {
		vars map[string]string
		says string
	}{
		{map[string]string{}, "no private key"},
		{map[string]string{"PRIVATE_KEY": "x", "PRIVATE_KEY_FILE": key}, "not both"},
		{map[string]string{"PRIVATE_KEY_FILE": "/nonexistent"}, "cannot be read"},
		{map[string]string{"PRIVATE_KEY_FILE": encrypted}, "(invalid_key)"},
		{map[string]string{"PRIVATE_KEY_FILE": encrypted, "PASSPHRASE": "wrong"}, "(invalid_key)"},
		{map[string]string{"PRIVATE_KEY_FILE": filepath.Join(vectors, "keys/rsa2048_public.pem")}, "(invalid_key)"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "PREVIOUS_PASSPHRASE": "x"}, "PREVIOUS_PASSPHRASE is set without"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "APP_SECRET": ""}, "APP_SECRET is set but empty"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "PREVIOUS_APP_SECRET": "x"}, "without APP_SECRET"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "FLOW_TOKEN_SIGNATURE": "sometimes"}, "FLOW_TOKEN_SIGNATURE"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "FLOW_TOKEN_SIGNATURE": "required"}, "(invalid_configuration)"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "PORT": "70000"}, "PORT"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "PORT": "-1"}, "PORT"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "HOST": "localhost"}, "HOST"},
		{map[string]string{"PRIVATE_KEY_FILE": key, "MEDIA_ALLOW_HTTP": "yes"}, "MEDIA_ALLOW_HTTP"},
	} {
		_, err := loadSettings(envOf(tc.vars))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, want %q", tc.vars, err, tc.says)
		}
		if tc.says == "no private key" {
			if code := run(envOf(tc.vars)); code != 1 {
				t.Error("exit status", code)
			}
		}
	}
}
