package waflows

// #include <wa_flows_crypto.h>
import "C"

import (
	"bytes"
	"io"
	"runtime"
)

func parseMetadata(metadata []byte) (*C.wfc_media_metadata, error) {
	var md *C.wfc_media_metadata
	m, mn := in(metadata)
	err := call(func() C.wfc_status { return C.wfc_media_metadata_from_json(m, mn, &md) })
	runtime.KeepAlive(metadata)
	return md, err
}

// DecryptMediaContent decrypts an uploaded file (the CDN file) with its encryption_metadata
// JSON, exactly as it arrives in the flow request, and returns the plaintext only when every
// check passed. Errors: malformed, encrypted_hash_mismatch, hmac_mismatch, padding,
// plaintext_hash_mismatch; none is request-level (HTTPStatus 0 except for malformed): answer
// the flow, with an error screen.
func DecryptMediaContent(file, metadata []byte) ([]byte, error) {
	md, err := parseMetadata(metadata)
	if err != nil {
		return nil, err
	}
	defer C.wfc_media_metadata_free(md)
	f, fn := in(file)
	out, err := copyOut(int(C.wfc_decrypt_media_content_max_len(fn)), func(o *C.uint8_t, c C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_decrypt_media_content(md, f, fn, o, c, n)
	})
	runtime.KeepAlive(file)
	return out, err
}

// MediaDecryptor decrypts a CDN file fed in chunks. The plaintext Update returns is NOT
// VERIFIED until Finish returns no error: do not parse, serve or act on it before, and discard
// all of it if Finish fails. One goroutine at a time. NewMediaReader is the safe wrapper.
type MediaDecryptor struct{ ptr *C.wfc_media_decryptor }

// NewMediaDecryptor starts decrypting a file with its encryption_metadata JSON.
func NewMediaDecryptor(metadata []byte) (*MediaDecryptor, error) {
	md, err := parseMetadata(metadata)
	if err != nil {
		return nil, err
	}
	defer C.wfc_media_metadata_free(md)
	var p *C.wfc_media_decryptor
	if err := call(func() C.wfc_status { return C.wfc_media_decryptor_new(md, &p) }); err != nil {
		return nil, err
	}
	d := &MediaDecryptor{ptr: p}
	runtime.SetFinalizer(d, (*MediaDecryptor).Close)
	return d, nil
}

// Update feeds the next chunk and returns the (unverified) plaintext it releases.
func (d *MediaDecryptor) Update(chunk []byte) ([]byte, error) {
	defer runtime.KeepAlive(d)
	c, cn := in(chunk)
	out, err := copyOut(int(C.wfc_media_decryptor_max_update_len(cn)), func(o *C.uint8_t, oc C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_media_decryptor_update(d.ptr, c, cn, o, oc, n)
	})
	runtime.KeepAlive(chunk)
	return out, err
}

// Finish runs every check and, if all pass, returns the last plaintext bytes. After it the
// decryptor is finished (already_finished).
func (d *MediaDecryptor) Finish() ([]byte, error) {
	defer runtime.KeepAlive(d)
	return copyOut(C.WFC_MEDIA_FINISH_MAX_LEN, func(o *C.uint8_t, oc C.size_t, n *C.size_t) C.wfc_status {
		return C.wfc_media_decryptor_finish(d.ptr, o, oc, n)
	})
}

// BytesProcessed is how many bytes of the CDN file were fed so far (the total once finished).
func (d *MediaDecryptor) BytesProcessed() int64 {
	defer runtime.KeepAlive(d)
	return int64(C.wfc_media_decryptor_bytes_processed(d.ptr))
}

// Close zeroizes and releases the decryptor.
func (d *MediaDecryptor) Close() error {
	if d != nil && d.ptr != nil {
		C.wfc_media_decryptor_free(d.ptr)
		d.ptr = nil
		runtime.SetFinalizer(d, nil)
	}
	return nil
}

// MediaVerifier checks a CDN file fed in chunks without decrypting it.
type MediaVerifier struct{ ptr *C.wfc_media_verifier }

// NewMediaVerifier starts verifying a file with its encryption_metadata JSON.
func NewMediaVerifier(metadata []byte) (*MediaVerifier, error) {
	md, err := parseMetadata(metadata)
	if err != nil {
		return nil, err
	}
	defer C.wfc_media_metadata_free(md)
	var p *C.wfc_media_verifier
	if err := call(func() C.wfc_status { return C.wfc_media_verifier_new(md, &p) }); err != nil {
		return nil, err
	}
	v := &MediaVerifier{ptr: p}
	runtime.SetFinalizer(v, (*MediaVerifier).Close)
	return v, nil
}

// Update feeds the next chunk.
func (v *MediaVerifier) Update(chunk []byte) error {
	defer runtime.KeepAlive(v)
	c, cn := in(chunk)
	err := call(func() C.wfc_status { return C.wfc_media_verifier_update(v.ptr, c, cn) })
	runtime.KeepAlive(chunk)
	return err
}

// Finish runs every check; the verifier is finished afterwards.
func (v *MediaVerifier) Finish() error {
	defer runtime.KeepAlive(v)
	return call(func() C.wfc_status { return C.wfc_media_verifier_finish(v.ptr) })
}

// Close releases the verifier.
func (v *MediaVerifier) Close() error {
	if v != nil && v.ptr != nil {
		C.wfc_media_verifier_free(v.ptr)
		v.ptr = nil
		runtime.SetFinalizer(v, nil)
	}
	return nil
}

// MediaReader is an io.Reader of a CDN file's plaintext that never returns a byte the library
// has not verified. Over an io.ReadSeeker it streams in constant memory: a first pass verifies
// the whole file (decrypting it and discarding the plaintext), then a second pass decrypts it
// again and is checked again at EOF
// (so a file changed between the passes ends in an error, not io.EOF). Over any other reader
// it decrypts as the input arrives but holds the plaintext back until Finish has verified it.
type MediaReader struct {
	src      io.Reader
	metadata []byte
	dec      *MediaDecryptor
	pending  bytes.Buffer
	chunk    []byte
	started  bool
	eof      bool
	err      error
}

// mediaChunk is a multiple of the AES block, so each pass's Update releases whole chunks.
const mediaChunk = 64 * 1024

// NewMediaReader reads the CDN file from src; the metadata is parsed now, so a malformed one
// fails here.
func NewMediaReader(src io.Reader, metadata []byte) (*MediaReader, error) {
	d, err := NewMediaDecryptor(metadata)
	if err != nil {
		return nil, err
	}
	return &MediaReader{src: src, metadata: append([]byte(nil), metadata...), dec: d, chunk: make([]byte, mediaChunk)}, nil
}

// verifyFirst decrypts the whole file once and throws the plaintext away: a MediaVerifier
// alone cannot check the padding and the plaintext hash, which need the plaintext.
func (m *MediaReader) verifyFirst(seeker io.ReadSeeker) error {
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	d, err := NewMediaDecryptor(m.metadata)
	if err != nil {
		return err
	}
	defer d.Close()
	for {
		n, rerr := seeker.Read(m.chunk)
		if n > 0 {
			out, err := d.Update(m.chunk[:n])
			wipe(out)
			if err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	last, err := d.Finish()
	wipe(last)
	if err != nil {
		return err
	}
	_, err = seeker.Seek(start, io.SeekStart)
	return err
}

// Read returns verified plaintext, then io.EOF; or the library's *Error (or the source's
// error) instead of io.EOF when the file does not verify.
func (m *MediaReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	seeker, streaming := m.src.(io.ReadSeeker)
	if !m.started {
		m.started = true
		if streaming {
			if err := m.verifyFirst(seeker); err != nil {
				return 0, m.fail(err)
			}
		}
	}
	for m.pending.Len() == 0 || (!streaming && !m.eof) {
		if m.eof {
			return 0, m.fail(io.EOF)
		}
		n, rerr := m.src.Read(m.chunk)
		if n > 0 {
			out, err := m.dec.Update(m.chunk[:n])
			if err != nil {
				return 0, m.fail(err)
			}
			m.pending.Write(out)
		}
		if rerr == io.EOF {
			last, err := m.dec.Finish()
			if err != nil {
				return 0, m.fail(err)
			}
			m.pending.Write(last)
			m.eof = true
		} else if rerr != nil {
			return 0, m.fail(rerr)
		}
	}
	return m.pending.Read(p)
}

// fail keeps err for every later Read and wipes what was held back.
func (m *MediaReader) fail(err error) error {
	if err != io.EOF {
		wipe(m.pending.Bytes())
		m.pending.Reset()
	}
	m.err = err
	m.dec.Close()
	return err
}

// Close releases the decryptor and wipes any plaintext not yet read.
func (m *MediaReader) Close() error {
	wipe(m.pending.Bytes())
	m.pending.Reset()
	return m.dec.Close()
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
