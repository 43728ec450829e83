/* One key and one flow endpoint shared by 8 threads at once, as a server's worker threads use
 * them: every thread decrypts every request vector of the key, answers it, and records what it
 * got; each result must equal the single-threaded one, byte for byte, status for status, error
 * message for error message (the last-error slot is per thread).
 *
 *   test_threads FIXTURES_DIR VECTORS_DIR
 *
 * WFC_TEST_QUICK=1 (valgrind) runs fewer rounds. */
#include <pthread.h>

#include "testutil.h"

#define THREADS 8
#define MAX_CASES 256
#define ANSWER "{\"screen\":\"NEXT\",\"data\":{\"ok\":true}}"

typedef struct {
  const char *name;
  field body;
} request_case;

/* What one call gave: its status, and the plaintext and the encrypted answer, or the error. */
typedef struct {
  wfc_status decrypt_status;
  wfc_status open_status;
  uint8_t *plaintext;
  size_t plaintext_len;
  uint8_t *answer;
  size_t answer_len;
  char error[512];
} outcome;

static request_case cases[MAX_CASES];
static size_t case_count = 0;
static const wfc_private_key *shared_key = NULL;
static const wfc_flow_endpoint *shared_endpoint = NULL;
static int rounds = 10;

static void copy_error(char *out, size_t cap) {
  size_t len = 0;
  if (wfc_last_error_message((uint8_t *)out, cap - 1, &len) != WFC_STATUS_OK) {
    len = 0;
  }
  out[len] = '\0';
}

/* The answer is deterministic (the request's key and inverted IV): equal bytes or a bug. */
static void run_case(const request_case *c, outcome *out) {
  wfc_decrypted_request *request = NULL;
  wfc_opened_request *opened = NULL;
  memset(out, 0, sizeof *out);
  out->decrypt_status = wfc_decrypt_request(c->body.data, c->body.len, shared_key, &request);
  if (out->decrypt_status != WFC_STATUS_OK) {
    copy_error(out->error, sizeof out->error);
  } else {
    size_t need = wfc_decrypted_request_plaintext_len(request);
    size_t cap = 4096 + 2 * sizeof ANSWER;
    out->plaintext = xmalloc(need);
    if (wfc_decrypted_request_plaintext(request, out->plaintext, need, &out->plaintext_len) !=
        WFC_STATUS_OK) {
      out->plaintext_len = (size_t)-1;
    }
    out->answer = xmalloc(cap);
    if (wfc_decrypted_request_encrypt_response(request, (const uint8_t *)ANSWER,
                                               sizeof ANSWER - 1, out->answer, cap,
                                               &out->answer_len) != WFC_STATUS_OK) {
      out->answer_len = (size_t)-1;
    }
    wfc_decrypted_request_free(request);
  }
  out->open_status =
      wfc_flow_endpoint_open(shared_endpoint, c->body.data, c->body.len, NULL, 0, 0, &opened);
  wfc_opened_request_free(opened);
}

static int same(const outcome *a, const outcome *b) {
  /* A failed copy-out is recorded as length (size_t)-1 with its buffer unread. */
  int plaintexts = a->plaintext_len == (size_t)-1
                       ? b->plaintext_len == (size_t)-1
                       : bytes_eq(a->plaintext, a->plaintext_len, b->plaintext, b->plaintext_len);
  int answers = a->answer_len == (size_t)-1
                    ? b->answer_len == (size_t)-1
                    : bytes_eq(a->answer, a->answer_len, b->answer, b->answer_len);
  return a->decrypt_status == b->decrypt_status && a->open_status == b->open_status &&
         plaintexts && answers && strcmp(a->error, b->error) == 0;
}

static void release(outcome *o) {
  free(o->plaintext);
  free(o->answer);
}

static outcome reference[MAX_CASES];

typedef struct {
  int index;
  int mismatches;
  int calls;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  int round;
  size_t i;
  for (round = 0; round < rounds; round++) {
    for (i = 0; i < case_count; i++) {
      /* Each thread walks the cases from its own offset, so different requests overlap. */
      size_t at = (i + (size_t)w->index * 7) % case_count;
      outcome got;
      run_case(&cases[at], &got);
      w->calls++;
      if (!same(&got, &reference[at])) {
        w->mismatches++;
        fprintf(stderr, "thread %d: %s differs from the single-threaded result\n", w->index,
                cases[at].name);
      }
      release(&got);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  char path[4096];
  size_t pem_len = 0;
  uint8_t *pem;
  wfc_private_key *key = NULL;
  wfc_key_ring *ring = NULL;
  wfc_flow_endpoint *endpoint = NULL;
  FILE *f;
  field r[10];
  pthread_t threads[THREADS];
  worker workers[THREADS];
  size_t i, ok_cases = 0;
  int t, mismatches = 0, calls = 0;
  if (argc != 3) {
    fprintf(stderr, "usage: %s FIXTURES_DIR VECTORS_DIR\n", argv[0]);
    return 2;
  }
  if (getenv("WFC_TEST_QUICK") != NULL) {
    rounds = 1;
  }
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.pem", argv[2]);
  pem = read_file(path, &pem_len);
  CHECK_STATUS(wfc_private_key_from_pem(pem, pem_len, NULL, 0, &key), WFC_STATUS_OK, "key");
  CHECK_STATUS(wfc_key_ring_new((const wfc_private_key *const *)&key, 1, &ring), WFC_STATUS_OK,
               "ring");
  CHECK_STATUS(wfc_flow_endpoint_new(ring, NULL, 0, WFC_FLOW_TOKEN_SIGNATURE_POLICY_IF_PRESENT,
                                     &endpoint),
               WFC_STATUS_OK, "endpoint");
  shared_key = key;
  shared_endpoint = endpoint;

  /* Every request vector made for this key: good ones and each way of being bad. */
  f = open_fixture(argv[1], "requests.fix");
  while (read_record(f, r, 10)) {
    if (case_count < MAX_CASES && r[2].data[0] == '0' &&
        strstr((const char *)r[1].data, "/rsa2048_pkcs8.pem") != NULL) {
      cases[case_count].name = (const char *)r[0].data;
      cases[case_count].body = r[4];
      r[0].data = NULL;
      r[4].data = NULL;
      ok_cases += r[5].data[0] == '1';
      case_count++;
    }
    free_record(r, 10);
  }
  fclose(f);
  CHECK(case_count >= 10 && ok_cases >= 3 && ok_cases < case_count,
        "%zu cases (%zu good): the vectors should give good and bad requests", case_count,
        ok_cases);

  for (i = 0; i < case_count; i++) {
    run_case(&cases[i], &reference[i]);
  }
  for (t = 0; t < THREADS; t++) {
    workers[t].index = t;
    workers[t].mismatches = 0;
    workers[t].calls = 0;
    CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0, "thread %d", t);
  }
  for (t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    mismatches += workers[t].mismatches;
    calls += workers[t].calls;
  }
  CHECK(mismatches == 0, "%d of %d calls differ from the single-threaded result", mismatches,
        calls);
  CHECK(calls == THREADS * rounds * (int)case_count, "%d calls", calls);
  printf("%d threads, %d calls on one key and one endpoint, %zu distinct requests\n", THREADS,
         calls, case_count);

  for (i = 0; i < case_count; i++) {
    release(&reference[i]);
    free(cases[i].body.data);
    free((void *)cases[i].name);
  }
  wfc_flow_endpoint_free(endpoint);
  wfc_key_ring_free(ring);
  wfc_private_key_free(key);
  free(pem);
  return finish_tests("threads");
}
