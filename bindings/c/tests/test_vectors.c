/* Runs every vector (requests, responses, signatures, flow tokens, media) through the C ABI. */
#include "testutil.h"

static const char *fixtures;
static const char *vectors_dir;

static int contains(const uint8_t *haystack, size_t len, const char *needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= len; i++) {
    if (memcmp(haystack + i, needle, n) == 0) {
      return 1;
    }
  }
  return 0;
}

static int expected_error_matches(const char *name, wfc_status status, const char *error) {
  const char *got = wfc_status_str(status);
  if (strcmp(got, error) == 0) {
    return 1;
  }
  /* The vectors allow either reading for these two. */
  if (strcmp(name, "wrapped_key_wrong_length") == 0) {
    return strcmp(got, "malformed") == 0 || strcmp(got, "key_unwrap") == 0;
  }
  if (strcmp(error, "padding_or_plaintext_hash") == 0) {
    return strcmp(got, "padding") == 0 || strcmp(got, "plaintext_hash_mismatch") == 0;
  }
  return 0;
}

static uint8_t *copy_out_plaintext(const wfc_decrypted_request *req, size_t *len) {
  size_t need = wfc_decrypted_request_plaintext_len(req);
  uint8_t *buf = xmalloc(need);
  wfc_status st = wfc_decrypted_request_plaintext(req, buf, need, len);
  CHECK_STATUS(st, WFC_STATUS_OK, "plaintext copy-out");
  return buf;
}

static void test_requests(void) {
  FILE *f = open_fixture(fixtures, "requests.fix");
  field r[10];
  int n = 0;
  while (read_record(f, r, 10)) {
    const char *name = (const char *)r[0].data;
    int has_pass = r[2].data[0] == '1';
    int ok = r[5].data[0] == '1';
    size_t key_len = 0;
    uint8_t *key_bytes = read_file((const char *)r[1].data, &key_len);
    wfc_private_key *key = NULL;
    wfc_status st = wfc_private_key_from_pem(key_bytes, key_len, has_pass ? r[3].data : NULL,
                                             r[3].len, &key);
    n++;
    if (st != WFC_STATUS_OK) {
      CHECK(!ok && expected_error_matches(name, st, (const char *)r[9].data),
            "%s: key load gave %s (%s)", name, wfc_status_str(st), last_error());
      CHECK(key == NULL, "%s: key written on failure", name);
      CHECK(wfc_status_http_status(st) == 500, "%s: invalid_key is HTTP 500", name);
    } else {
      wfc_decrypted_request *req = NULL;
      st = wfc_decrypt_request(r[4].data, r[4].len, key, &req);
      if (ok) {
        uint8_t aes[WFC_AES_KEY_LEN], iv[WFC_IV_LEN];
        size_t len = 0, aes_len = 0, iv_len = 0;
        uint8_t *pt;
        CHECK_STATUS(st, WFC_STATUS_OK, name);
        if (st == WFC_STATUS_OK) {
          pt = copy_out_plaintext(req, &len);
          CHECK(bytes_eq(pt, len, r[6].data, r[6].len), "%s: plaintext differs", name);
          free(pt);
          CHECK_STATUS(wfc_decrypted_request_aes_key(req, aes, sizeof aes, &aes_len),
                       WFC_STATUS_OK, name);
          CHECK(bytes_eq(aes, aes_len, r[7].data, r[7].len), "%s: aes key differs", name);
          CHECK_STATUS(wfc_decrypted_request_iv(req, iv, sizeof iv, &iv_len), WFC_STATUS_OK,
                       name);
          CHECK(bytes_eq(iv, iv_len, r[8].data, r[8].len), "%s: iv differs", name);
        }
        /* The two separate steps give the same result. */
        {
          wfc_encrypted_request *enc = NULL;
          wfc_decrypted_request *again = NULL;
          uint8_t *wrapped;
          size_t wrapped_len = 0, unwrapped_len = 0;
          uint8_t unwrapped[WFC_AES_KEY_LEN];
          CHECK_STATUS(wfc_encrypted_request_from_json(r[4].data, r[4].len, &enc), WFC_STATUS_OK,
                       name);
          wrapped = xmalloc(wfc_encrypted_request_encrypted_aes_key_len(enc));
          CHECK_STATUS(wfc_encrypted_request_encrypted_aes_key(
                           enc, wrapped, wfc_encrypted_request_encrypted_aes_key_len(enc),
                           &wrapped_len),
                       WFC_STATUS_OK, name);
          CHECK_STATUS(wfc_unwrap_aes_key(wrapped, wrapped_len, key, unwrapped, sizeof unwrapped,
                                          &unwrapped_len),
                       WFC_STATUS_OK, name);
          CHECK(bytes_eq(unwrapped, unwrapped_len, r[7].data, r[7].len),
                "%s: unwrapped key differs", name);
          CHECK_STATUS(wfc_decrypt_payload(enc, unwrapped, unwrapped_len, &again), WFC_STATUS_OK,
                       name);
          if (again != NULL) {
            size_t len2 = 0;
            uint8_t *pt2 = copy_out_plaintext(again, &len2);
            CHECK(bytes_eq(pt2, len2, r[6].data, r[6].len), "%s: two-step plaintext", name);
            free(pt2);
          }
          free(wrapped);
          wfc_decrypted_request_free(again);
          wfc_encrypted_request_free(enc);
        }
      } else {
        CHECK(st != WFC_STATUS_OK && expected_error_matches(name, st, (const char *)r[9].data),
              "%s: got %s, expected %s", name, wfc_status_str(st), (const char *)r[9].data);
        CHECK(req == NULL, "%s: request written on failure", name);
        CHECK(wfc_status_http_status(st) == 421, "%s: request errors are HTTP 421", name);
        CHECK(wfc_last_error_message_len() > 0, "%s: no error message", name);
      }
      wfc_decrypted_request_free(req);
    }
    wfc_private_key_free(key);
    free(key_bytes);
    free_record(r, 10);
  }
  fclose(f);
  CHECK(n >= 30, "only %d request vectors", n);
}

static void test_responses(void) {
  FILE *f = open_fixture(fixtures, "responses.fix");
  field r[5];
  int n = 0;
  while (read_record(f, r, 5)) {
    const char *name = (const char *)r[0].data;
    wfc_response_key *key = NULL;
    size_t need = wfc_encrypt_response_len(r[3].len), len = 0;
    uint8_t *body = xmalloc(need);
    n++;
    CHECK(need == r[4].len, "%s: size helper %zu, expected %zu", name, need, r[4].len);
    CHECK_STATUS(wfc_response_key_new(r[1].data, r[1].len, r[2].data, r[2].len, &key),
                 WFC_STATUS_OK, name);
    /* One byte short: BUFFER_TOO_SMALL with the exact length, nothing written. */
    memset(body, 0xAA, need);
    CHECK_STATUS(wfc_encrypt_response(r[3].data, r[3].len, key, body, need - 1, &len),
                 WFC_STATUS_BUFFER_TOO_SMALL, name);
    CHECK(len == need, "%s: needed length %zu", name, len);
    CHECK(body[0] == 0xAA, "%s: written on BUFFER_TOO_SMALL", name);
    CHECK_STATUS(wfc_encrypt_response(r[3].data, r[3].len, key, body, need, &len), WFC_STATUS_OK,
                 name);
    CHECK(bytes_eq(body, len, r[4].data, r[4].len), "%s: body differs", name);
    wfc_response_key_free(key);
    free(body);
    free_record(r, 5);
  }
  fclose(f);
  CHECK(n >= 1, "no response vectors");
}

static void test_signatures(void) {
  FILE *f = open_fixture(fixtures, "signatures.fix");
  field r[5];
  int n = 0;
  while (read_record(f, r, 5)) {
    const char *name = (const char *)r[0].data;
    int valid = r[4].data[0] == '1';
    wfc_status st = wfc_verify_signature(r[2].data, r[2].len, r[3].data, r[3].len, r[1].data,
                                         r[1].len);
    n++;
    CHECK_STATUS(st, valid ? WFC_STATUS_OK : WFC_STATUS_INVALID_SIGNATURE, name);
    if (!valid) {
      CHECK(wfc_status_http_status(st) == 432, "%s: HTTP 432", name);
    }
    if (strcmp(name, "valid") == 0) {
      uint8_t header[WFC_SIGNATURE_HEADER_LEN];
      size_t len = 0;
      CHECK_STATUS(wfc_sign(r[2].data, r[2].len, r[1].data, r[1].len, header, sizeof header, &len),
                   WFC_STATUS_OK, name);
      CHECK(bytes_eq(header, len, r[3].data, r[3].len), "%s: sign() differs", name);
    }
    free_record(r, 5);
  }
  fclose(f);
  CHECK(n >= 5, "only %d signature vectors", n);
}

/* Data API 4.0: every flow_token_signature vector (secrets are newline-separated). */
static void test_flow_tokens(void) {
  FILE *f = open_fixture(fixtures, "flow_token.fix");
  field r[7];
  int n = 0;
  while (read_record(f, r, 7)) {
    const char *name = (const char *)r[0].data;
    int ok = r[4].data[0] == '1';
    wfc_bytes secrets[8];
    size_t count = 0, start = 0, i;
    wfc_flow_token_signature outcome = (wfc_flow_token_signature)0;
    wfc_status st;
    for (i = 0; i <= r[2].len && count < 8; i++) {
      if (i == r[2].len || r[2].data[i] == '\n') {
        secrets[count].data = r[2].data + start;
        secrets[count].len = i - start;
        count++;
        start = i + 1;
      }
    }
    st = wfc_verify_flow_token_signature(r[1].data, r[1].len, secrets, count,
                                         strtoll((const char *)r[3].data, NULL, 10), &outcome);
    n++;
    if (ok) {
      wfc_flow_token_signature want = strcmp((const char *)r[5].data, "verified") == 0
                                          ? WFC_FLOW_TOKEN_SIGNATURE_VERIFIED
                                          : WFC_FLOW_TOKEN_SIGNATURE_ABSENT;
      CHECK_STATUS(st, WFC_STATUS_OK, name);
      CHECK(outcome == want, "%s: outcome %u", name, (unsigned)outcome);
    } else {
      CHECK_STATUS(st, WFC_STATUS_INVALID_FLOW_TOKEN_SIGNATURE, name);
      CHECK(strcmp(wfc_status_str(st), (const char *)r[6].data) == 0, "%s: code", name);
      CHECK(wfc_status_http_status(st) == 427, "%s: HTTP 427", name);
      CHECK(outcome == (wfc_flow_token_signature)0, "%s: outcome written on failure", name);
    }
    free_record(r, 7);
  }
  fclose(f);
  CHECK(n >= 41, "only %d flow token vectors", n);
}

/* Every good request opens through a ring whose first key is another one, and through an
 * endpoint without secrets; the flow view names the action. */
static void test_rotation(void) {
  FILE *f = open_fixture(fixtures, "requests.fix");
  field r[10];
  char path[4096];
  size_t other_len = 0, main_len = 0;
  uint8_t *other_pem, *main_pem;
  wfc_private_key *keys[2] = {NULL, NULL};
  wfc_key_ring *ring = NULL;
  wfc_flow_endpoint *endpoint = NULL;
  int n = 0;
  snprintf(path, sizeof path, "%s/keys/rsa2048_other.pem", vectors_dir);
  other_pem = read_file(path, &other_len);
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.pem", vectors_dir);
  main_pem = read_file(path, &main_len);
  CHECK_STATUS(wfc_private_key_from_pem(other_pem, other_len, NULL, 0, &keys[0]), WFC_STATUS_OK,
               "other key");
  CHECK_STATUS(wfc_private_key_from_pem(main_pem, main_len, NULL, 0, &keys[1]), WFC_STATUS_OK,
               "main key");
  CHECK_STATUS(wfc_key_ring_new((const wfc_private_key *const *)keys, 2, &ring), WFC_STATUS_OK,
               "ring");
  /* The ring holds copies: the keys can go. */
  wfc_private_key_free(keys[0]);
  wfc_private_key_free(keys[1]);
  CHECK(wfc_key_ring_len(ring) == 2, "ring of 2");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, NULL, 0, WFC_FLOW_TOKEN_SIGNATURE_POLICY_IF_PRESENT,
                                     &endpoint),
               WFC_STATUS_OK, "endpoint");
  while (read_record(f, r, 10)) {
    const char *name = (const char *)r[0].data;
    int ok = r[5].data[0] == '1';
    if (ok && strstr((const char *)r[1].data, "/rsa2048_pkcs8.pem") != NULL) {
      wfc_decrypted_request *req = NULL;
      wfc_opened_request *opened = NULL;
      uint8_t view[1 << 12];
      size_t len = 0;
      n++;
      CHECK_STATUS(wfc_key_ring_decrypt_request(r[4].data, r[4].len, ring, &req), WFC_STATUS_OK,
                   name);
      CHECK(wfc_decrypted_request_key_index(req) == 1, "%s: opened by the second key", name);
      CHECK_STATUS(wfc_flow_endpoint_open(endpoint, r[4].data, r[4].len, NULL, 0, 0, &opened),
                   WFC_STATUS_OK, name);
      CHECK(wfc_opened_request_key_index(opened) == 1, "%s: endpoint key index", name);
      CHECK(wfc_opened_request_flow_token_signature(opened) == 0, "%s: nothing checked", name);
      if (wfc_opened_request_flow(opened, view, sizeof view, &len) == WFC_STATUS_OK) {
        CHECK(contains(view, len, "\"action\":"), "%s: flow view", name);
      }
      if (strcmp(name, "ping") == 0) {
        uint8_t automatic[64];
        size_t automatic_len = 0;
        CHECK_STATUS(wfc_opened_request_automatic_response(opened, automatic, sizeof automatic,
                                                           &automatic_len),
                     WFC_STATUS_OK, name);
        CHECK(bytes_eq(automatic, automatic_len, (const uint8_t *)"{\"data\":{\"status\":\"active\"}}",
                       28),
              "ping answered");
      }
      wfc_opened_request_free(opened);
      wfc_decrypted_request_free(req);
    }
    free_record(r, 10);
  }
  fclose(f);
  CHECK(n >= 8, "only %d requests through the ring", n);
  wfc_flow_endpoint_free(endpoint);
  wfc_key_ring_free(ring);
  free(other_pem);
  free(main_pem);
}

/* Streams `file` through a decryptor in chunks of `chunk`; returns the status of finish. */
static wfc_status stream_decrypt(const wfc_media_metadata *md, const uint8_t *file, size_t len,
                                 size_t chunk, uint8_t **plain, size_t *plain_len) {
  wfc_media_decryptor *dec = NULL;
  size_t off = 0, total = 0, n = 0;
  uint8_t *out = xmalloc(len + WFC_MEDIA_FINISH_MAX_LEN);
  uint8_t *scratch = xmalloc(wfc_media_decryptor_max_update_len(chunk));
  wfc_status st = wfc_media_decryptor_new(md, &dec);
  CHECK_STATUS(st, WFC_STATUS_OK, "decryptor_new");
  while (off < len) {
    size_t take = len - off < chunk ? len - off : chunk;
    size_t expect = wfc_media_decryptor_update_len(dec, take);
    CHECK(expect <= wfc_media_decryptor_max_update_len(take), "update_len above max");
    st = wfc_media_decryptor_update(dec, file + off, take, scratch,
                                    wfc_media_decryptor_max_update_len(chunk), &n);
    CHECK_STATUS(st, WFC_STATUS_OK, "decryptor_update");
    CHECK(n == expect, "update wrote %zu, update_len said %zu", n, expect);
    memcpy(out + total, scratch, n);
    total += n;
    off += take;
  }
  CHECK(wfc_media_decryptor_bytes_processed(dec) == len, "bytes_processed");
  st = wfc_media_decryptor_finish(dec, out + total, WFC_MEDIA_FINISH_MAX_LEN, &n);
  if (st == WFC_STATUS_OK) {
    total += n;
  }
  /* Finished: a second finish or update is refused with its own status; the total stays. */
  CHECK_STATUS(wfc_media_decryptor_finish(dec, scratch, WFC_MEDIA_FINISH_MAX_LEN, &n),
               WFC_STATUS_ALREADY_FINISHED, "second finish");
  CHECK_STATUS(wfc_media_decryptor_update(dec, file, len < 16 ? len : 16, scratch,
                                          wfc_media_decryptor_max_update_len(chunk), &n),
               WFC_STATUS_ALREADY_FINISHED, "update after finish");
  CHECK(wfc_status_http_status(WFC_STATUS_ALREADY_FINISHED) == 0, "not a request-level error");
  CHECK(wfc_media_decryptor_bytes_processed(dec) == len, "bytes_processed kept after finish");
  wfc_media_decryptor_free(dec);
  free(scratch);
  *plain = out;
  *plain_len = total;
  return st;
}

static void test_media(void) {
  static const size_t chunks[] = {13, 4096, 65536};
  FILE *f = open_fixture(fixtures, "media.fix");
  field r[6];
  int n = 0;
  while (read_record(f, r, 6)) {
    const char *name = (const char *)r[0].data;
    int ok = r[3].data[0] == '1';
    const char *error = (const char *)r[5].data;
    size_t file_len = 0, want_len = 0, len = 0, c;
    uint8_t *file = read_file((const char *)r[1].data, &file_len);
    uint8_t *want = ok ? read_file((const char *)r[4].data, &want_len) : NULL;
    wfc_media_metadata *md = NULL;
    wfc_status st = wfc_media_metadata_from_json(r[2].data, r[2].len, &md);
    n++;
    if (st != WFC_STATUS_OK) {
      CHECK(!ok && expected_error_matches(name, st, error), "%s: metadata gave %s (%s)", name,
            wfc_status_str(st), last_error());
    } else {
      size_t cap = wfc_decrypt_media_content_max_len(file_len);
      uint8_t *out = xmalloc(cap);
      uint8_t *copy = xmalloc(file_len);
      wfc_media_verifier *ver = NULL;
      memset(out, 0xAA, cap);
      /* One-shot. */
      st = wfc_decrypt_media_content(md, file, file_len, out, cap, &len);
      if (ok) {
        CHECK_STATUS(st, WFC_STATUS_OK, name);
        CHECK(bytes_eq(out, len, want, want_len), "%s: one-shot plaintext differs", name);
      } else {
        CHECK(expected_error_matches(name, st, error), "%s: one-shot gave %s, expected %s", name,
              wfc_status_str(st), error);
        {
          /* Decrypted straight into `out`: what was written is zeroed again, the rest untouched. */
          size_t i, left = 0;
          for (i = 0; i < cap; i++) {
            left += out[i] != 0xAA && out[i] != 0;
          }
          CHECK(left == 0, "%s: %zu bytes of plaintext left on failure", name, left);
          CHECK(st != WFC_STATUS_MALFORMED || cap == 0 || out[0] == 0xAA,
                "%s: a length error writes nothing", name);
        }
        CHECK(wfc_status_http_status(st) == 0 || st == WFC_STATUS_MALFORMED,
              "%s: media errors are not request-level", name);
      }
      /* In place. */
      memcpy(copy, file, file_len);
      st = wfc_decrypt_media_content_in_place(md, copy, file_len, &len);
      if (ok) {
        CHECK_STATUS(st, WFC_STATUS_OK, name);
        CHECK(bytes_eq(copy, len, want, want_len), "%s: in-place plaintext differs", name);
      } else {
        CHECK(expected_error_matches(name, st, error), "%s: in-place gave %s", name,
              wfc_status_str(st));
      }
      /* Streaming, several chunk sizes. */
      for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        st = stream_decrypt(md, file, file_len, chunks[c], &plain, &plain_len);
        if (ok) {
          CHECK_STATUS(st, WFC_STATUS_OK, name);
          CHECK(bytes_eq(plain, plain_len, want, want_len), "%s: streamed plaintext (chunk %zu)",
                name, chunks[c]);
        } else {
          CHECK(expected_error_matches(name, st, error), "%s: stream (chunk %zu) gave %s", name,
                chunks[c], wfc_status_str(st));
        }
        free(plain);
      }
      /* Verify without decrypting. */
      CHECK_STATUS(wfc_media_verifier_new(md, &ver), WFC_STATUS_OK, name);
      CHECK_STATUS(wfc_media_verifier_update(ver, file, file_len / 2), WFC_STATUS_OK, name);
      CHECK_STATUS(wfc_media_verifier_update(ver, file + file_len / 2, file_len - file_len / 2),
                   WFC_STATUS_OK, name);
      st = wfc_media_verifier_finish(ver);
      if (ok) {
        CHECK_STATUS(st, WFC_STATUS_OK, name);
      } else {
        CHECK(expected_error_matches(name, st, error) ||
                  /* The verifier does not decrypt: a wrong key passes it. */
                  (strcmp(error, "padding_or_plaintext_hash") == 0 && st == WFC_STATUS_OK) ||
                  (strcmp(error, "padding") == 0 && st == WFC_STATUS_OK) ||
                  (strcmp(error, "plaintext_hash_mismatch") == 0 && st == WFC_STATUS_OK),
              "%s: verifier gave %s", name, wfc_status_str(st));
      }
      wfc_media_verifier_free(ver);
      free(out);
      free(copy);
    }
    wfc_media_metadata_free(md);
    free(file);
    free(want);
    free_record(r, 6);
  }
  fclose(f);
  CHECK(n >= 15, "only %d media vectors", n);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FIXTURE_DIR VECTORS_DIR\n", argv[0]);
    return 2;
  }
  fixtures = argv[1];
  vectors_dir = argv[2];
  test_requests();
  test_responses();
  test_signatures();
  test_flow_tokens();
  test_rotation();
  test_media();
  return finish_tests("test_vectors");
}
