/* A minimal WhatsApp Flows endpoint step in C: load the private key once, decrypt a request
 * body, answer a ping, and check a signature.
 *
 *   cc -I bindings/c/include flow_endpoint.c -L target/debug -lwa_flows_crypto_ffi
 *   ./a.out private.pem request_body.json [passphrase]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wa_flows_crypto.h"

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *data = NULL;
  size_t cap = 0, n;
  *len = 0;
  if (f == NULL) {
    return NULL;
  }
  do {
    unsigned char *bigger;
    cap = cap ? cap * 2 : 4096;
    bigger = realloc(data, cap);
    if (bigger == NULL) {
      free(data);
      fclose(f);
      return NULL;
    }
    data = bigger;
    n = fread(data + *len, 1, cap - *len, f);
    *len += n;
  } while (*len == cap);
  fclose(f);
  return data;
}

/* Prints the status, its HTTP status and the library's message. */
static int fail(const char *what, wfc_status status) {
  char message[512];
  size_t len = 0;
  if (wfc_last_error_message((uint8_t *)message, sizeof message, &len) != WFC_STATUS_OK) {
    len = 0;
  }
  fprintf(stderr, "%s: %s (answer HTTP %u): %.*s\n", what, wfc_status_str(status),
          (unsigned)wfc_status_http_status(status), (int)len, message);
  return 1;
}

int main(int argc, char **argv) {
  static const char ping_answer[] = "{\"data\":{\"status\":\"active\"}}";
  size_t pem_len = 0, body_len = 0, len = 0;
  unsigned char *pem, *body;
  char *plaintext, *answer;
  wfc_private_key *key = NULL;
  wfc_decrypted_request *request = NULL;
  wfc_status status;
  const char *passphrase = argc > 3 ? argv[3] : NULL;

  if (argc < 3) {
    fprintf(stderr, "usage: %s PRIVATE_KEY REQUEST_BODY [PASSPHRASE]\n", argv[0]);
    return 2;
  }
  pem = slurp(argv[1], &pem_len);
  body = slurp(argv[2], &body_len);
  if (pem == NULL || body == NULL) {
    fprintf(stderr, "cannot read the key or the body\n");
    return 2;
  }

  /* Once at start-up; the key can then be shared by every thread. */
  status = wfc_private_key_from_pem(pem, pem_len, (const uint8_t *)passphrase,
                                    passphrase ? strlen(passphrase) : 0, &key);
  free(pem);
  if (status != WFC_STATUS_OK) {
    return fail("loading the key", status);
  }

  /* Per request. */
  status = wfc_decrypt_request(body, body_len, key, &request);
  free(body);
  if (status != WFC_STATUS_OK) {
    wfc_private_key_free(key);
    return fail("decrypting the request", status);
  }
  len = wfc_decrypted_request_plaintext_len(request);
  plaintext = malloc(len + 1);
  if (plaintext == NULL ||
      wfc_decrypted_request_plaintext(request, (uint8_t *)plaintext, len, &len) != WFC_STATUS_OK) {
    return 1;
  }
  plaintext[len] = '\0';
  printf("request: %s\n", plaintext);

  len = wfc_encrypt_response_len(strlen(ping_answer));
  answer = malloc(len + 1);
  if (answer == NULL) {
    return 1;
  }
  status = wfc_decrypted_request_encrypt_response(request, (const uint8_t *)ping_answer,
                                                  strlen(ping_answer), (uint8_t *)answer, len,
                                                  &len);
  if (status != WFC_STATUS_OK) {
    return fail("encrypting the answer", status);
  }
  answer[len] = '\0';
  printf("response body (text/plain): %s\n", answer);

  free(plaintext);
  free(answer);
  wfc_decrypted_request_free(request);
  wfc_private_key_free(key);
  return 0;
}
