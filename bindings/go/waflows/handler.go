package waflows

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// MaxBodyBytes is the largest request body Handler reads: WhatsApp's requests are a few KiB.
const MaxBodyBytes = 1 << 20

// FlowFunc answers an opened request that the protocol does not answer itself (not a ping, not
// an error notification) with the JSON to encrypt. Returning a *FlowTokenRefusal answers 427.
type FlowFunc func(r *http.Request, opened *OpenedRequest, flow *FlowRequest) ([]byte, error)

// FlowTokenRefusal, returned by a FlowFunc, answers 427 with the encrypted
// {"error_msg": Message}: for a flow token the application finds expired or invalid.
type FlowTokenRefusal struct{ Message string }

func (f *FlowTokenRefusal) Error() string { return "flow token refused: " + f.Message }

// Handler serves POSTs from WhatsApp as the endpoint specification
// (crates/wa-flows-crypto-endpoint-example/README.md) says: 415 for a Content-Type other than
// application/json, 413 above MaxBodyBytes, then FlowEndpoint.Open, whose error's code and
// HTTP status are the answer (text/plain, the body is the code); pings and error notifications
// get their automatic answer, every other request Flow's. GET answers a line of text.
type Handler struct {
	Endpoint *FlowEndpoint
	Flow     FlowFunc
	// Log, when set, gets one call per POST: the status, the action (or the error code) and
	// the time taken. It never gets a key, a secret or a plaintext.
	Log func(status int, what string, took time.Duration)
	// Now is the clock for flow token signatures (default time.Now).
	Now func() time.Time
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		io.WriteString(w, "WhatsApp Flows endpoint: POST encrypted flow requests here.\n")
		return
	case http.MethodPost:
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, "method_not_allowed")
		return
	}
	started := time.Now()
	status, body, what := h.serve(r)
	w.WriteHeader(status)
	io.WriteString(w, body)
	if h.Log != nil {
		h.Log(status, what, time.Since(started))
	}
}

// The actions the library names; any other is logged as "other" (its text is the sender's).
var knownActions = map[string]bool{"ping": true, "INIT": true, "data_exchange": true, "BACK": true}

func (h *Handler) serve(r *http.Request) (status int, body, what string) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mediaType, "application/json") {
		return http.StatusUnsupportedMediaType, "unsupported_media_type", "unsupported_media_type"
	}
	if r.ContentLength > MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, "body_too_large", "body_too_large"
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return http.StatusBadRequest, "unreadable_body", "unreadable_body"
	}
	if len(raw) > MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, "body_too_large", "body_too_large"
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	opened, err := h.Endpoint.Open(raw, r.Header.Get("X-Hub-Signature-256"), now())
	if err != nil {
		return refusal(err)
	}
	defer opened.Close()
	flow, err := opened.Flow()
	if err != nil {
		return refusal(err)
	}
	what = "other"
	if knownActions[flow.Action] {
		what = flow.Action
	}
	answer, automatic := opened.AutomaticResponse()
	if !automatic {
		out, err := h.Flow(r, opened, flow)
		var token *FlowTokenRefusal
		if errors.As(err, &token) {
			status, body, err := opened.FlowTokenError(token.Message)
			if err != nil {
				return refusal(err)
			}
			return status, body, "flow_token_refused"
		}
		if err != nil {
			return http.StatusInternalServerError, "internal_error", "internal_error"
		}
		answer = string(out)
	}
	body, err = opened.Respond([]byte(answer))
	if err != nil {
		return refusal(err)
	}
	return http.StatusOK, body, what
}

func refusal(err error) (int, string, string) {
	var e *Error
	if errors.As(err, &e) {
		status := e.HTTPStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
		return status, e.Code, e.Code
	}
	return http.StatusInternalServerError, "internal_error", "internal_error"
}
