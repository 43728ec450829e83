// Command endpoint is a complete WhatsApp Flows endpoint in Go (net/http): it checks and
// decrypts what WhatsApp sends, runs a two-screen flow with a PhotoPicker, downloads and
// decrypts the uploaded photos with the streaming MediaDecryptor, and encrypts its answers. It
// follows, variable for variable and byte for byte, the specification every example follows:
// crates/wa-flows-crypto-endpoint-example/README.md.
//
//	PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=your-app-secret PORT=3000 go run ./examples/endpoint
//
// Every check (signature, decryption with the current or the previous key, the flow request,
// the flow token signature) is the library's FlowEndpoint.Open, run by waflows.Handler; this
// file reads the configuration and runs the flow.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wa-flows-crypto/wa-flows-crypto/bindings/go/waflows"
)

const (
	defaultPort = 3000
	// WhatsApp sends at most 30 files per request.
	maxPhotos = 30
	// WhatsApp limits uploads to 25 MiB; the CDN file adds at most one block of padding and the
	// 10-byte MAC.
	maxCDNFileBytes  = 25*1024*1024 + 16 + 10
	downloadTimeout  = 30 * time.Second
	maxRedirects     = 3
	policyIfPresent  = "if_present"
	policyRequired   = "required"
	policyOff        = "off"
	profileScreen    = "PROFILE"
	summaryScreen    = "SUMMARY"
	successScreen    = "SUCCESS"
	startupRefusalFn = "refusing to start: "
)

// logOutput is standard error; the tests read it.
var logOutput io.Writer = os.Stderr

func logf(format string, args ...interface{}) {
	fmt.Fprintf(logOutput, "flow endpoint: "+format+"\n", args...)
}

type settings struct {
	endpoint  *waflows.FlowEndpoint
	key       *waflows.PrivateKey
	previous  *waflows.PrivateKey
	secrets   [][]byte
	policy    string
	host      string
	port      int
	allowHTTP bool
}

type env func(string) (string, bool)

// value is a variable's text; unset and empty are the same, as the specification says.
func (e env) value(name string) (string, bool) {
	v, ok := e(name)
	return v, ok && v != ""
}

// readKey reads PRIVATE_KEY or PRIVATE_KEY_FILE with PASSPHRASE (prefix "" ) or the previous
// key (prefix "PREVIOUS_", which may be absent: nil, nil).
func readKey(e env, prefix string) (*waflows.PrivateKey, error) {
	keyVar, fileVar, passVar := prefix+"PRIVATE_KEY", prefix+"PRIVATE_KEY_FILE", prefix+"PASSPHRASE"
	pemText, hasPEM := e.value(keyVar)
	path, hasPath := e.value(fileVar)
	passphrase, hasPass := e.value(passVar)
	if hasPEM && hasPath {
		return nil, fmt.Errorf("set %s or %s, not both", keyVar, fileVar)
	}
	if !hasPEM && !hasPath {
		if prefix != "" {
			if hasPass {
				return nil, fmt.Errorf("%s is set without %s or %s", passVar, keyVar, fileVar)
			}
			return nil, nil
		}
		return nil, errors.New("no private key: set PRIVATE_KEY to the key's PEM text, or PRIVATE_KEY_FILE to the " +
			"path of the key file (make one with `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)")
	}
	source, data := keyVar, []byte(pemText)
	if hasPath {
		source = fmt.Sprintf("%s=%q", fileVar, path)
		read, err := os.ReadFile(path)
		if err != nil {
			var pathErr *os.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err
			}
			return nil, fmt.Errorf("%s cannot be read: %v", source, err)
		}
		data = read
	}
	var pass []byte
	if hasPass {
		pass = []byte(passphrase)
	}
	// ParsePrivateKey also takes DER, and repairs what environment variables do to PEM. Its
	// messages never contain key material.
	key, err := waflows.ParsePrivateKey(data, pass)
	if err != nil {
		var e *waflows.Error
		errors.As(err, &e)
		return nil, fmt.Errorf("%s: %s (%s)", source, e.Message, e.Code)
	}
	return key, nil
}

// secret is an app secret; set but empty is a mistake, not "no secret": it would silently turn
// the signature check off.
func secret(e env, name string) ([]byte, error) {
	v, set := e(name)
	if set && v == "" {
		return nil, fmt.Errorf("%s is set but empty; unset it to run without signature checks", name)
	}
	if !set {
		return nil, nil
	}
	return []byte(v), nil
}

func loadSettings(e env) (*settings, error) {
	key, err := readKey(e, "")
	if err != nil {
		return nil, err
	}
	previous, err := readKey(e, "PREVIOUS_")
	if err != nil {
		return nil, err
	}
	appSecret, err := secret(e, "APP_SECRET")
	if err != nil {
		return nil, err
	}
	previousSecret, err := secret(e, "PREVIOUS_APP_SECRET")
	if err != nil {
		return nil, err
	}
	if previousSecret != nil && appSecret == nil {
		return nil, errors.New("PREVIOUS_APP_SECRET is set without APP_SECRET")
	}
	s := &settings{key: key, previous: previous, policy: policyIfPresent, host: "0.0.0.0", port: defaultPort}
	for _, v := range [][]byte{appSecret, previousSecret} {
		if v != nil {
			s.secrets = append(s.secrets, v)
		}
	}
	if appSecret == nil {
		logf("warning: APP_SECRET is not set, so requests are not authenticated: anyone with your public key can call this endpoint")
	}
	if v, ok := e.value("FLOW_TOKEN_SIGNATURE"); ok {
		s.policy = strings.TrimSpace(v)
		if s.policy != policyIfPresent && s.policy != policyRequired && s.policy != policyOff {
			return nil, fmt.Errorf("FLOW_TOKEN_SIGNATURE=%q is not one of if_present, required, off", v)
		}
	}
	keys := []*waflows.PrivateKey{key}
	if previous != nil {
		keys = append(keys, previous)
	}
	ring, err := waflows.NewKeyRing(keys...)
	if err == nil {
		defer ring.Close() // the endpoint keeps its own copies
		s.endpoint, err = waflows.NewFlowEndpoint(ring, s.secrets, s.policy)
	}
	if err != nil { // e.g. FLOW_TOKEN_SIGNATURE=required without APP_SECRET
		var fe *waflows.Error
		errors.As(err, &fe)
		return nil, fmt.Errorf("%s (%s)", fe.Message, fe.Code)
	}
	if v, ok := e.value("PORT"); ok {
		digits := strings.TrimSpace(v)
		port, err := strconv.Atoi(digits)
		if err != nil || port < 0 || port > 65535 || strings.TrimLeft(digits, "0123456789") != "" {
			return nil, fmt.Errorf("PORT=%q is not a port number (0 to 65535)", v)
		}
		s.port = port
	}
	if v, ok := e.value("HOST"); ok {
		ip := net.ParseIP(strings.TrimSpace(v))
		if ip == nil {
			return nil, fmt.Errorf("HOST=%q is not an IP address (e.g. 0.0.0.0 or ::1)", v)
		}
		s.host = ip.String()
	}
	if v, ok := e.value("MEDIA_ALLOW_HTTP"); ok {
		switch strings.TrimSpace(v) {
		case "0", "false":
		case "1", "true":
			s.allowHTTP = true
		default:
			return nil, fmt.Errorf("MEDIA_ALLOW_HTTP=%q is not 0 or 1", strings.TrimSpace(v))
		}
	}
	return s, nil
}

// --- the flow -------------------------------------------------------------------------------

type object = map[string]interface{}

func profile(message string) object {
	return object{"screen": profileScreen, "data": object{"error_message": message}}
}

// safeCode keeps what WhatsApp's error names and keys are made of, and nothing else.
func safeCode(s *string) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range *s {
		if c < 128 && (c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') && b.Len() < 64 {
			b.WriteRune(c)
		}
	}
	return b.String()
}

type app struct{ media *mediaClient }

func (a *app) flow(r *http.Request, _ *waflows.OpenedRequest, flow *waflows.FlowRequest) ([]byte, error) {
	var data object
	json.Unmarshal(flow.Data, &data) // not an object: no fields
	var answer object
	switch {
	case flow.Action == "INIT" || flow.Action == "BACK":
		answer = profile("")
	case flow.Action == "data_exchange" && flow.HasScreen && flow.Screen == profileScreen:
		answer = a.submitProfile(r.Context(), data)
	case flow.Action == "data_exchange" && flow.HasScreen && flow.Screen == summaryScreen:
		answer = object{"screen": successScreen, "data": object{
			"extension_message_response": object{"params": object{"flow_token": flow.FlowToken}}}}
	case flow.Action == "data_exchange":
		answer = profile("unknown screen")
	default:
		answer = profile("unsupported action")
	}
	return toJSON(answer)
}

// toJSON is compact JSON with keys sorted and text as is (what serde_json writes): Go would
// otherwise escape <, > and & for HTML.
func toJSON(v interface{}) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

func (a *app) submitProfile(ctx context.Context, data object) object {
	name, _ := data["name"].(string)
	var photos []interface{}
	switch p := data["photos"].(type) {
	case nil:
	case []interface{}:
		photos = p
	default:
		return profile("photos is not a list")
	}
	if len(photos) > maxPhotos {
		return profile(fmt.Sprintf("too many photos: at most %d", maxPhotos))
	}
	results := make([]photoResult, len(photos))
	var wg sync.WaitGroup
	for i, photo := range photos {
		wg.Add(1)
		go func(i int, photo interface{}) {
			defer wg.Done()
			results[i] = a.media.read(ctx, i, photo)
		}(i, photo)
	}
	wg.Wait()
	summaries := []object{}
	total := int64(0)
	for _, r := range results {
		if r.code != "" {
			return profile(fmt.Sprintf("could not read photo %s: %s", r.label, r.code))
		}
		summaries = append(summaries, object{"file_name": r.label, "size": r.size, "sha256": r.sha256})
		total += r.size
	}
	return object{"screen": summaryScreen, "data": object{
		"name":        name,
		"photo_count": len(summaries),
		"total_bytes": total,
		"photos":      summaries,
		"summary":     fmt.Sprintf("%d photos, %d bytes", len(summaries), total),
	}}
}

// --- PhotoPicker uploads --------------------------------------------------------------------

type photoResult struct {
	label, code, sha256 string
	size                int64
}

type mediaClient struct {
	http      *http.Client
	allowHTTP bool
}

func newMediaClient(allowHTTP bool) *mediaClient {
	m := &mediaClient{allowHTTP: allowHTTP}
	m.http = &http.Client{
		Timeout: downloadTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects || !m.allowed(req.URL.String()) {
				return errors.New("redirect refused")
			}
			return nil
		},
	}
	return m
}

func (m *mediaClient) allowed(url string) bool {
	return strings.HasPrefix(url, "https://") || (m.allowHTTP && strings.HasPrefix(url, "http://"))
}

func (m *mediaClient) read(ctx context.Context, index int, photo interface{}) photoResult {
	fields, _ := photo.(object)
	r := photoResult{label: fmt.Sprintf("#%d", index+1)}
	if name, ok := fields["file_name"].(string); ok {
		r.label = name
	}
	url, ok := fields["cdn_url"].(string)
	metadata, err := json.Marshal(fields["encryption_metadata"])
	if !ok || err != nil {
		r.code = "malformed"
		return r
	}
	decryptor, err := waflows.NewMediaDecryptor(metadata) // parses the five base64 fields
	if err != nil {
		r.code = err.(*waflows.Error).Code
		return r
	}
	defer decryptor.Close()
	if !m.allowed(url) {
		r.code = "cdn_url_refused"
		return r
	}
	r.size, r.sha256, r.code = m.download(ctx, url, decryptor)
	return r
}

func (m *mediaClient) download(ctx context.Context, url string, d *waflows.MediaDecryptor) (int64, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", "download_failed"
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return 0, "", "download_failed"
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, "", "download_failed"
	}
	if resp.ContentLength > maxCDNFileBytes {
		return 0, "", "too_large"
	}
	hash := sha256.New()
	var size, received int64
	buf := make([]byte, 64*1024)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			received += int64(n)
			if received > maxCDNFileBytes {
				return 0, "", "too_large"
			}
			// NOT VERIFIED yet: only hashed; the hash is thrown away unless Finish passes.
			plain, err := d.Update(buf[:n])
			if err != nil {
				return 0, "", err.(*waflows.Error).Code
			}
			hash.Write(plain)
			size += int64(len(plain))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, "", "download_failed"
		}
	}
	last, err := d.Finish()
	if err != nil {
		return 0, "", err.(*waflows.Error).Code
	}
	hash.Write(last)
	return size + int64(len(last)), hex.EncodeToString(hash.Sum(nil)), ""
}

// --- HTTP -----------------------------------------------------------------------------------

func newHandler(s *settings) http.Handler {
	a := &app{media: newMediaClient(s.allowHTTP)}
	flow := &waflows.Handler{
		Endpoint: s.endpoint,
		Flow:     a.flow,
		Log: func(status int, what string, took time.Duration) {
			logf("%d %s %.1fms", status, what, float64(took.Microseconds())/1000)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not_found")
			return
		}
		flow.ServeHTTP(w, r)
	})
	return mux
}

func run(e env) int {
	s, err := loadSettings(e)
	if err != nil {
		logf("%s%v", startupRefusalFn, err)
		return 1
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil {
		logf("cannot listen on %s:%d: %v", s.host, s.port, err)
		return 1
	}
	fingerprint, _ := s.key.PublicKeyFingerprint()
	line := fmt.Sprintf("listening on http://%s/ (public key %s", listener.Addr(), fingerprint)
	if s.previous != nil {
		previous, _ := s.previous.PublicKeyFingerprint()
		line += ", previous key " + previous
	}
	check, policy := "off", "off"
	if len(s.secrets) > 0 {
		check, policy = "on", s.policy
		if len(s.secrets) > 1 {
			check += fmt.Sprintf(" with %d app secrets", len(s.secrets))
		}
	}
	logf("%s, signature check %s, flow token signature %s)", line, check, policy)
	server := &http.Server{Handler: newHandler(s), ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		logf("%v", err)
		return 1
	}
	logf("stopped")
	return 0
}

func main() { os.Exit(run(os.LookupEnv)) }
