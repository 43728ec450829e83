/* The ABI contract itself: NULL checks, buffer sizes, nothing written on failure, statuses,
 * error messages, key round trips and sharing a key between threads. */
#include <pthread.h>

#include "testutil.h"

static const char *vectors;
static wfc_private_key *shared_key;
static void test_request_from_base64(void);
static uint8_t *shared_body;
static size_t shared_body_len;

static void test_statuses(void) {
  static const struct {
    uint32_t status;
    const char *code;
    uint16_t http;
  } table[] = {
      {WFC_STATUS_OK, "ok", 0},
      {WFC_STATUS_MALFORMED, "malformed", 421},
      {WFC_STATUS_KEY_UNWRAP, "key_unwrap", 421},
      {WFC_STATUS_PAYLOAD_AUTH, "payload_auth", 421},
      {WFC_STATUS_INVALID_KEY, "invalid_key", 500},
      {WFC_STATUS_INVALID_SIGNATURE, "invalid_signature", 432},
      {WFC_STATUS_ENCRYPTED_HASH_MISMATCH, "encrypted_hash_mismatch", 0},
      {WFC_STATUS_HMAC_MISMATCH, "hmac_mismatch", 0},
      {WFC_STATUS_PADDING, "padding", 0},
      {WFC_STATUS_PLAINTEXT_HASH_MISMATCH, "plaintext_hash_mismatch", 0},
      {WFC_STATUS_INVALID_CONFIGURATION, "invalid_configuration", 500},
      {WFC_STATUS_INVALID_FLOW_TOKEN_SIGNATURE, "invalid_flow_token_signature", 427},
      {WFC_STATUS_ALREADY_FINISHED, "already_finished", 0},
      {WFC_STATUS_NULL_PARAMETER, "null_parameter", 500},
      {WFC_STATUS_BUFFER_TOO_SMALL, "buffer_too_small", 0},
      {WFC_STATUS_PANIC, "panic", 500},
      {12345, "unknown", 0},
  };
  size_t i;
  for (i = 0; i < sizeof table / sizeof table[0]; i++) {
    CHECK(strcmp(wfc_status_str(table[i].status), table[i].code) == 0, "status %u is %s",
          (unsigned)table[i].status, wfc_status_str(table[i].status));
    CHECK(wfc_status_http_status(table[i].status) == table[i].http, "http of %s",
          table[i].code);
  }
  CHECK(strlen(wfc_version()) > 0, "version");
}

static void test_nulls_and_frees(void) {
  wfc_private_key *key = (wfc_private_key *)0x1;
  uint8_t buf[8] = {0xAA};
  size_t len = 77;
  wfc_status st;
  /* Every _free accepts NULL. */
  wfc_private_key_free(NULL);
  wfc_decrypted_request_free(NULL);
  wfc_encrypted_request_free(NULL);
  wfc_response_key_free(NULL);
  wfc_media_metadata_free(NULL);
  wfc_media_decryptor_free(NULL);
  wfc_media_verifier_free(NULL);
  /* NULL input with a length, NULL out pointers, NULL handles. */
  st = wfc_private_key_from_pem(NULL, 10, NULL, 0, &key);
  CHECK_STATUS(st, WFC_STATUS_NULL_PARAMETER, "pem NULL with length");
  CHECK(key == (wfc_private_key *)0x1, "key_out written on failure");
  CHECK(strstr(last_error(), "pem") != NULL, "message names the parameter: %s", last_error());
  CHECK_STATUS(wfc_private_key_from_pem((const uint8_t *)"x", 1, NULL, 0, NULL),
               WFC_STATUS_NULL_PARAMETER, "key_out NULL");
  CHECK_STATUS(wfc_private_key_public_pem(NULL, buf, sizeof buf, &len),
               WFC_STATUS_NULL_PARAMETER, "key NULL");
  CHECK(len == 77 && buf[0] == 0xAA, "written on NULL_PARAMETER");
  CHECK_STATUS(wfc_decrypt_request((const uint8_t *)"{}", 2, NULL, NULL),
               WFC_STATUS_NULL_PARAMETER, "decrypt_request NULLs");
  CHECK_STATUS(wfc_encrypt_response(NULL, 0, NULL, buf, sizeof buf, &len),
               WFC_STATUS_NULL_PARAMETER, "encrypt_response key NULL");
  CHECK_STATUS(wfc_verify_signature(NULL, 0, NULL, 0, (const uint8_t *)"s", 1),
               WFC_STATUS_INVALID_SIGNATURE, "empty inputs are allowed as NULL with length 0");
  /* An empty app secret is a configuration error, even with its own valid signature. */
  {
    uint8_t header[WFC_SIGNATURE_HEADER_LEN];
    size_t header_len = 0;
    CHECK_STATUS(wfc_sign((const uint8_t *)"{}", 2, NULL, 0, header, sizeof header, &header_len),
                 WFC_STATUS_OK, "sign with an empty secret");
    CHECK_STATUS(wfc_verify_signature((const uint8_t *)"{}", 2, header, header_len, NULL, 0),
                 WFC_STATUS_INVALID_CONFIGURATION, "empty app secret refused");
    CHECK(wfc_status_http_status(WFC_STATUS_INVALID_CONFIGURATION) == 500, "500");
  }
  CHECK_STATUS(wfc_sign(NULL, 0, NULL, 0, buf, sizeof buf, NULL), WFC_STATUS_NULL_PARAMETER,
               "out_len NULL");
  CHECK_STATUS(wfc_sign(NULL, 0, NULL, 0, NULL, 5, &len), WFC_STATUS_NULL_PARAMETER,
               "out NULL with a capacity");
  CHECK_STATUS(wfc_media_decryptor_update(NULL, NULL, 0, buf, sizeof buf, &len),
               WFC_STATUS_NULL_PARAMETER, "decryptor NULL");
  CHECK_STATUS(wfc_media_decryptor_finish(NULL, buf, sizeof buf, &len),
               WFC_STATUS_NULL_PARAMETER, "finish NULL");
  CHECK_STATUS(wfc_media_verifier_finish(NULL), WFC_STATUS_NULL_PARAMETER, "verifier NULL");
  CHECK_STATUS(wfc_decrypt_media_content_in_place(NULL, buf, sizeof buf, &len),
               WFC_STATUS_NULL_PARAMETER, "metadata NULL");
  CHECK(wfc_private_key_bits(NULL) == 0 && wfc_private_key_public_pem_len(NULL) == 0 &&
            wfc_decrypted_request_plaintext_len(NULL) == 0 &&
            wfc_media_decryptor_update_len(NULL, 5) == 0,
        "accessors of NULL give 0");
  /* Pure size helpers. */
  CHECK(wfc_encrypt_response_len(0) == 24, "encrypt_response_len(0)");
  CHECK(wfc_encrypt_response_len(28) == 60, "encrypt_response_len(28)");
  CHECK(wfc_encrypt_response_len((size_t)-1) == (size_t)-1, "overflow saturates");
  CHECK(wfc_decrypt_media_content_max_len(5) == 0, "max_len of a short file");
  CHECK(wfc_media_decryptor_max_update_len(1) == 16, "max_update_len(1)");
}

static void test_errors_and_messages(void) {
  uint8_t small[4];
  size_t len = 0, need;
  wfc_status st;
  wfc_response_key *rk = NULL;
  st = wfc_response_key_new((const uint8_t *)"short", 5, (const uint8_t *)"0123456789abcdef", 16,
                            &rk);
  CHECK_STATUS(st, WFC_STATUS_MALFORMED, "15-byte AES key");
  CHECK(rk == NULL, "response key written on failure");
  need = wfc_last_error_message_len();
  CHECK(need > 10, "message length %zu", need);
  CHECK(strstr(last_error(), "16 bytes") != NULL, "message: %s", last_error());
  st = wfc_last_error_message(small, sizeof small, &len);
  CHECK_STATUS(st, WFC_STATUS_BUFFER_TOO_SMALL, "message into 4 bytes");
  CHECK(len == need, "needed %zu, reported %zu", need, len);
  CHECK(wfc_last_error_message_len() == need, "reading the message does not change it");
  /* The panic boundary is tested in Rust (status.rs), where a panic can be provoked: the
   * shipped library exports no way to panic on purpose (run-tests.sh checks its symbols). */
}

static void test_keys(void) {
  char path[4096];
  size_t len = 0, pem_len = 0, der_len = 0;
  uint8_t *pem, *der, *out, *pub1, *pub2;
  wfc_private_key *a = NULL, *b = NULL, *c = NULL;
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.pem", vectors);
  pem = read_file(path, &pem_len);
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.der", vectors);
  der = read_file(path, &der_len);
  CHECK_STATUS(wfc_private_key_from_pem(pem, pem_len, NULL, 0, &a), WFC_STATUS_OK, "pem");
  CHECK_STATUS(wfc_private_key_from_der(der, der_len, NULL, 0, &b), WFC_STATUS_OK, "der");
  CHECK(wfc_private_key_bits(a) == 2048, "bits");
  pub1 = xmalloc(wfc_private_key_public_pem_len(a));
  pub2 = xmalloc(wfc_private_key_public_pem_len(b));
  CHECK_STATUS(wfc_private_key_public_pem(a, pub1, wfc_private_key_public_pem_len(a), &len),
               WFC_STATUS_OK, "public pem");
  CHECK(len == wfc_private_key_public_pem_len(a), "exact size helper");
  CHECK(len > 26 && memcmp(pub1, "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "SPKI PEM");
  CHECK_STATUS(wfc_private_key_public_pem(b, pub2, wfc_private_key_public_pem_len(b), &len),
               WFC_STATUS_OK, "public pem der");
  CHECK(bytes_eq(pub1, len, pub2, len), "PEM and DER load the same key");
  {
    uint8_t fp[WFC_FINGERPRINT_LEN];
    CHECK_STATUS(wfc_private_key_public_fingerprint(a, fp, sizeof fp, &len), WFC_STATUS_OK,
                 "fingerprint");
    CHECK(len == WFC_FINGERPRINT_LEN, "fingerprint length");
  }
  /* Export unencrypted and encrypted, load again, same public key. */
  {
    size_t cap = wfc_private_key_private_pem_max_len(a);
    out = xmalloc(cap);
    CHECK_STATUS(wfc_private_key_private_pem(a, NULL, 0, out, cap, &len), WFC_STATUS_OK,
                 "private pem");
    CHECK_STATUS(wfc_private_key_from_pem(out, len, NULL, 0, &c), WFC_STATUS_OK, "reload");
    wfc_private_key_free(c);
    c = NULL;
    if (getenv("WFC_TEST_QUICK") == NULL) {
      CHECK_STATUS(wfc_private_key_private_pem(a, (const uint8_t *)"pw", 2, out, cap, &len),
                   WFC_STATUS_OK, "encrypted private pem");
      CHECK(len <= cap, "max_len is an upper bound");
      CHECK_STATUS(wfc_private_key_from_pem(out, len, NULL, 0, &c), WFC_STATUS_INVALID_KEY,
                   "encrypted without passphrase");
      CHECK_STATUS(wfc_private_key_from_pem(out, len, (const uint8_t *)"pw", 2, &c),
                   WFC_STATUS_OK, "encrypted with passphrase");
      wfc_private_key_free(c);
      c = NULL;
    }
    free(out);
  }
  {
    size_t cap = wfc_private_key_private_der_len(a);
    out = xmalloc(cap);
    CHECK_STATUS(wfc_private_key_private_der(a, out, cap, &len), WFC_STATUS_OK, "private der");
    CHECK(len == cap, "exact private der size");
    free(out);
  }
  /* Generation. */
  CHECK_STATUS(wfc_private_key_generate(1024, &c), WFC_STATUS_INVALID_KEY, "1024 bits refused");
  CHECK(c == NULL, "written on failure");
  if (getenv("WFC_TEST_QUICK") == NULL) {
    CHECK_STATUS(wfc_private_key_generate(0, &c), WFC_STATUS_OK, "generate default");
    CHECK(wfc_private_key_bits(c) == 2048, "generated size");
    wfc_private_key_free(c);
  }
  wfc_private_key_free(a);
  wfc_private_key_free(b);
  free(pem);
  free(der);
  free(pub1);
  free(pub2);
}

static void *decrypt_many(void *arg) {
  int i, *failures = arg;
  for (i = 0; i < 20; i++) {
    wfc_decrypted_request *req = NULL;
    if (wfc_decrypt_request(shared_body, shared_body_len, shared_key, &req) != WFC_STATUS_OK) {
      (*failures)++;
    }
    wfc_decrypted_request_free(req);
  }
  return NULL;
}

/* A key is immutable: many threads decrypt with the same one at once. */
/* Rotation and the endpoint tier: configuration errors are 500, secrets are tried in order. */
static void test_rotation_configuration(void) {
  const uint8_t body[] = "{}";
  uint8_t header[WFC_SIGNATURE_HEADER_LEN];
  size_t header_len = 0, matched = 99;
  wfc_bytes secrets[2] = {{(const uint8_t *)"new", 3}, {(const uint8_t *)"old", 3}};
  wfc_bytes with_empty[2] = {{(const uint8_t *)"new", 3}, {NULL, 0}};
  wfc_key_ring *ring = (wfc_key_ring *)0x1;
  wfc_flow_endpoint *endpoint = (wfc_flow_endpoint *)0x1;
  const wfc_private_key *keys[1] = {shared_key};
  wfc_flow_token_signature outcome;

  CHECK_STATUS(wfc_sign(body, 2, (const uint8_t *)"old", 3, header, sizeof header, &header_len),
               WFC_STATUS_OK, "sign with the old secret");
  CHECK_STATUS(wfc_verify_signature_any(body, 2, header, header_len, secrets, 2, &matched),
               WFC_STATUS_OK, "the old secret verifies");
  CHECK(matched == 1, "matched the second secret, got %zu", matched);
  CHECK_STATUS(wfc_verify_signature_any(body, 2, header, header_len, secrets, 1, NULL),
               WFC_STATUS_INVALID_SIGNATURE, "the new secret alone does not");
  CHECK_STATUS(wfc_verify_signature_any(body, 2, header, header_len, NULL, 0, NULL),
               WFC_STATUS_INVALID_CONFIGURATION, "no secrets");
  CHECK_STATUS(wfc_verify_signature_any(body, 2, header, header_len, with_empty, 2, NULL),
               WFC_STATUS_INVALID_CONFIGURATION, "an empty secret in the list");
  CHECK_STATUS(wfc_verify_signature_any(body, 2, header, header_len, NULL, 2, NULL),
               WFC_STATUS_NULL_PARAMETER, "NULL secrets with a count");
  CHECK_STATUS(wfc_verify_flow_token_signature(body, 2, secrets, 2, 0, &outcome), WFC_STATUS_MALFORMED,
               "a request without an action");
  CHECK_STATUS(wfc_verify_flow_token_signature((const uint8_t *)"{\"action\":\"ping\"}", 17,
                                               secrets, 2, 0, NULL),
               WFC_STATUS_NULL_PARAMETER, "outcome_out NULL");

  CHECK_STATUS(wfc_key_ring_new(NULL, 0, &ring), WFC_STATUS_INVALID_CONFIGURATION, "empty ring");
  CHECK(ring == (wfc_key_ring *)0x1, "ring_out written on failure");
  {
    const wfc_private_key *with_null[2] = {shared_key, NULL};
    CHECK_STATUS(wfc_key_ring_new(with_null, 2, &ring), WFC_STATUS_NULL_PARAMETER, "NULL key");
  }
  CHECK_STATUS(wfc_key_ring_new(keys, 1, &ring), WFC_STATUS_OK, "ring of one");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, with_empty, 2, WFC_FLOW_TOKEN_SIGNATURE_POLICY_OFF,
                                     &endpoint),
               WFC_STATUS_INVALID_CONFIGURATION, "an empty secret");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, NULL, 0, WFC_FLOW_TOKEN_SIGNATURE_POLICY_REQUIRED,
                                     &endpoint),
               WFC_STATUS_INVALID_CONFIGURATION, "required without a secret");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, secrets, 2, 7, &endpoint),
               WFC_STATUS_INVALID_CONFIGURATION, "an unknown policy");
  CHECK(endpoint == (wfc_flow_endpoint *)0x1, "endpoint_out written on failure");
  CHECK(wfc_status_http_status(WFC_STATUS_INVALID_CONFIGURATION) == 500, "500");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, secrets, 2, WFC_FLOW_TOKEN_SIGNATURE_POLICY_REQUIRED,
                                     &endpoint),
               WFC_STATUS_OK, "endpoint");
  {
    wfc_opened_request *opened = NULL;
    CHECK_STATUS(wfc_flow_endpoint_open(endpoint, shared_body, shared_body_len, NULL, 0, 0,
                                        &opened),
                 WFC_STATUS_INVALID_SIGNATURE, "unsigned body");
    CHECK(wfc_status_http_status(WFC_STATUS_INVALID_SIGNATURE) == 432, "432");
    CHECK(opened == NULL, "opened_out written on failure");
  }
  wfc_flow_endpoint_free(endpoint);
  wfc_key_ring_free(ring);
  wfc_flow_endpoint_free(NULL);
  wfc_key_ring_free(NULL);
  wfc_opened_request_free(NULL);
  CHECK(wfc_key_ring_len(NULL) == 0 && wfc_opened_request_key_index(NULL) == 0 &&
            wfc_opened_request_flow_token_signature(NULL) == 0 &&
            wfc_decrypted_request_key_index(NULL) == 0,
        "accessors of NULL give 0");
}

static void test_threads_and_round_trip(void) {
  char path[4096];
  size_t pem_len = 0, len = 0;
  uint8_t *pem;
  wfc_decrypted_request *req = NULL;
  wfc_response_key *rk = NULL;
  pthread_t threads[4];
  int failures[4] = {0, 0, 0, 0};
  int i;
  const char *answer = "{\"data\":{\"status\":\"active\"}}";
  uint8_t body_a[128], body_b[128];
  size_t len_a = 0, len_b = 0;
  /* The body of a known-good request, taken from the fixtures: the first vector. */
  FILE *f;
  field r[10];
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.pem", vectors);
  pem = read_file(path, &pem_len);
  CHECK_STATUS(wfc_private_key_from_pem(pem, pem_len, NULL, 0, &shared_key), WFC_STATUS_OK,
               "key");
  f = open_fixture(getenv("WFC_FIXTURES"), "requests.fix");
  if (!read_record(f, r, 10)) {
    fprintf(stderr, "empty fixture\n");
    exit(2);
  }
  fclose(f);
  shared_body = r[4].data;
  shared_body_len = r[4].len;
  for (i = 0; i < 4; i++) {
    CHECK(pthread_create(&threads[i], NULL, decrypt_many, &failures[i]) == 0, "thread");
  }
  for (i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    CHECK(failures[i] == 0, "thread %d had %d failures", i, failures[i]);
  }
  /* The request's own encrypt_response and a separate response key agree. */
  CHECK_STATUS(wfc_decrypt_request(shared_body, shared_body_len, shared_key, &req),
               WFC_STATUS_OK, "decrypt");
  CHECK_STATUS(wfc_decrypted_request_response_key(req, &rk), WFC_STATUS_OK, "response key");
  wfc_decrypted_request_free(req); /* the response key outlives its request */
  CHECK_STATUS(wfc_encrypt_response((const uint8_t *)answer, strlen(answer), rk, body_a,
                                    sizeof body_a, &len_a),
               WFC_STATUS_OK, "encrypt a");
  CHECK_STATUS(wfc_decrypt_request(shared_body, shared_body_len, shared_key, &req),
               WFC_STATUS_OK, "decrypt again");
  CHECK_STATUS(wfc_decrypted_request_encrypt_response(req, (const uint8_t *)answer,
                                                      strlen(answer), body_b, sizeof body_b,
                                                      &len_b),
               WFC_STATUS_OK, "encrypt b");
  CHECK(bytes_eq(body_a, len_a, body_b, len_b), "same response body");
  CHECK(len_a == wfc_encrypt_response_len(strlen(answer)), "size helper");
  /* Plaintext copy-out one byte short: BUFFER_TOO_SMALL, exact length, nothing written. */
  {
    size_t need = wfc_decrypted_request_plaintext_len(req);
    uint8_t *buf = xmalloc(need);
    memset(buf, 0xAA, need);
    CHECK_STATUS(wfc_decrypted_request_plaintext(req, buf, need - 1, &len),
                 WFC_STATUS_BUFFER_TOO_SMALL, "plaintext short");
    CHECK(len == need && buf[0] == 0xAA, "needed %zu reported %zu", need, len);
    free(buf);
  }
  wfc_decrypted_request_free(req);
  wfc_response_key_free(rk);
  test_rotation_configuration();
  test_request_from_base64();
  wfc_private_key_free(shared_key);
  free_record(r, 10);
  free(pem);
}

/* The string value of `"name": "` in a JSON body written by json.dumps, or NULL. */
static const uint8_t *json_string_field(const uint8_t *body, size_t body_len, const char *name,
                                        size_t *len) {
  char needle[64];
  size_t n, i, j;
  snprintf(needle, sizeof needle, "\"%s\": \"", name);
  n = strlen(needle);
  for (i = 0; i + n <= body_len; i++) {
    if (memcmp(body + i, needle, n) == 0) {
      for (j = i + n; j < body_len && body[j] != '"'; j++) {
      }
      *len = j - (i + n);
      return body + i + n;
    }
  }
  return NULL;
}

static void test_request_from_base64(void) {
  static const char *fields[3] = {"encrypted_flow_data", "encrypted_aes_key", "initial_vector"};
  const uint8_t *value[3];
  size_t value_len[3], len_a = 0, len_b = 0;
  uint8_t plaintext_a[4096], plaintext_b[4096];
  wfc_encrypted_request *parsed = NULL, *bad = (wfc_encrypted_request *)0x1;
  wfc_decrypted_request *one_step = NULL, *from_fields = NULL, *from_ring = NULL;
  wfc_key_ring *ring = NULL;
  const wfc_private_key *keys[1];
  int i;
  for (i = 0; i < 3; i++) {
    value[i] = json_string_field(shared_body, shared_body_len, fields[i], &value_len[i]);
    CHECK(value[i] != NULL, "the fixture body has %s", fields[i]);
    if (value[i] == NULL) return;
  }
  /* The fields on their own give the request the body gives. */
  CHECK_STATUS(wfc_encrypted_request_from_base64(value[0], value_len[0], value[1], value_len[1],
                                                 value[2], value_len[2], &parsed),
               WFC_STATUS_OK, "from_base64");
  CHECK_STATUS(wfc_encrypted_request_decrypt(parsed, shared_key, &from_fields), WFC_STATUS_OK,
               "decrypt the parsed request");
  CHECK_STATUS(wfc_decrypt_request(shared_body, shared_body_len, shared_key, &one_step),
               WFC_STATUS_OK, "decrypt the body");
  CHECK_STATUS(wfc_decrypted_request_plaintext(one_step, plaintext_a, sizeof plaintext_a, &len_a),
               WFC_STATUS_OK, "plaintext a");
  CHECK_STATUS(wfc_decrypted_request_plaintext(from_fields, plaintext_b, sizeof plaintext_b,
                                               &len_b),
               WFC_STATUS_OK, "plaintext b");
  CHECK(bytes_eq(plaintext_a, len_a, plaintext_b, len_b), "same plaintext from the fields");
  keys[0] = shared_key;
  CHECK_STATUS(wfc_key_ring_new(keys, 1, &ring), WFC_STATUS_OK, "ring");
  CHECK_STATUS(wfc_key_ring_decrypt(parsed, ring, &from_ring), WFC_STATUS_OK, "ring decrypt");
  CHECK(wfc_decrypted_request_key_index(from_ring) == 0, "key index 0");
  /* A field that is not base64 is malformed, and the message names it. */
  CHECK_STATUS(wfc_encrypted_request_from_base64(value[0], value_len[0], (const uint8_t *)"*", 1,
                                                 value[2], value_len[2], &bad),
               WFC_STATUS_MALFORMED, "bad base64");
  CHECK(bad == (wfc_encrypted_request *)0x1, "request_out written on failure");
  CHECK(strstr(last_error(), "encrypted_aes_key") != NULL, "message: %s", last_error());
  CHECK_STATUS(wfc_encrypted_request_from_base64(NULL, 4, value[1], value_len[1], value[2],
                                                 value_len[2], &bad),
               WFC_STATUS_NULL_PARAMETER, "NULL field with a length");
  CHECK_STATUS(wfc_encrypted_request_decrypt(NULL, shared_key, &from_fields),
               WFC_STATUS_NULL_PARAMETER, "NULL request");
  wfc_decrypted_request_free(from_ring);
  wfc_decrypted_request_free(from_fields);
  wfc_decrypted_request_free(one_step);
  wfc_key_ring_free(ring);
  wfc_encrypted_request_free(parsed);
}

int main(int argc, char **argv) {
  if (argc != 2 || getenv("WFC_FIXTURES") == NULL) {
    fprintf(stderr, "usage: WFC_FIXTURES=DIR %s VECTORS_DIR\n", argv[0]);
    return 2;
  }
  vectors = argv[1];
  test_statuses();
  test_nulls_and_frees();
  test_errors_and_messages();
  test_keys();
  test_threads_and_round_trip();
  return finish_tests("test_api");
}
