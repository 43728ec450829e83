/* Soak: REQUESTS decrypt_request + encrypt_response calls (every good request vector of the
 * key, in turn) and MEDIA streamed decryptions of the 1 MiB media vector, with the resident
 * set sampled along the way. Fails when it grows more than 2 MiB after the warm-up (the first
 * tenth of each phase), or when any call fails or gives another plaintext than the vectors.
 *
 *   soak FIXTURES_DIR VECTORS_DIR REQUESTS MEDIA
 *
 * Prints one line per phase: `c requests N: rss_kib start .. max (growth G KiB)`. */
#include <unistd.h>

#include "testutil.h"

#define MAX_CASES 64
#define GROWTH_LIMIT_KIB 2048
#define ANSWER "{\"screen\":\"NEXT\",\"data\":{\"ok\":true}}"
#define CHUNK 65536

static long rss_kib(void) {
  long pages_total = 0, pages_resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL || fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
    fprintf(stderr, "cannot read /proc/self/statm\n");
    exit(2);
  }
  fclose(f);
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Tracks the resident set after the warm-up: the first tenth of the iterations. */
typedef struct {
  const char *phase;
  long iterations;
  long after_warm_up;
  long max;
} rss_track;

static void sample(rss_track *t, long i) {
  long now;
  if (i < t->iterations / 10) {
    return;
  }
  now = rss_kib();
  if (i == t->iterations / 10) {
    t->after_warm_up = now;
  }
  if (now > t->max) {
    t->max = now;
  }
}

static void report(const rss_track *t) {
  long growth = t->max - t->after_warm_up;
  printf("c %s %ld: rss_kib %ld .. %ld (growth %ld KiB)\n", t->phase, t->iterations,
         t->after_warm_up, t->max, growth);
  CHECK(growth < GROWTH_LIMIT_KIB, "%s: resident set grew %ld KiB after the warm-up", t->phase,
        growth);
}

int main(int argc, char **argv) {
  char path[4096];
  size_t pem_len = 0, count = 0, i;
  uint8_t *pem, *plaintext, *answer;
  wfc_private_key *key = NULL;
  field bodies[MAX_CASES], r[10], m[6];
  /* Each request's plaintext length, from the vectors: every round must give it again. */
  size_t plaintext_len[MAX_CASES];
  long requests, media, n;
  FILE *f;
  uint8_t *file = NULL, *out;
  size_t file_len = 0, want_len = 0;
  uint8_t *want = NULL;
  wfc_media_metadata *metadata = NULL;
  rss_track track;
  if (argc != 5) {
    fprintf(stderr, "usage: %s FIXTURES_DIR VECTORS_DIR REQUESTS MEDIA\n", argv[0]);
    return 2;
  }
  requests = atol(argv[3]);
  media = atol(argv[4]);
  snprintf(path, sizeof path, "%s/keys/rsa2048_pkcs8.pem", argv[2]);
  pem = read_file(path, &pem_len);
  CHECK_STATUS(wfc_private_key_from_pem(pem, pem_len, NULL, 0, &key), WFC_STATUS_OK, "key");

  f = open_fixture(argv[1], "requests.fix");
  while (read_record(f, r, 10)) {
    if (count < MAX_CASES && r[2].data[0] == '0' && r[5].data[0] == '1' &&
        strstr((const char *)r[1].data, "/rsa2048_pkcs8.pem") != NULL) {
      plaintext_len[count] = r[6].len;
      bodies[count++] = r[4];
      r[4].data = NULL;
    }
    free_record(r, 10);
  }
  fclose(f);
  CHECK(count >= 3, "%zu good requests", count);

  plaintext = xmalloc(1 << 20);
  answer = xmalloc(1 << 12);
  memset(&track, 0, sizeof track);
  track.phase = "requests";
  track.iterations = requests;
  for (n = 0; n < requests; n++) {
    size_t at = (size_t)n % count, len = 0, answer_len = 0;
    wfc_decrypted_request *request = NULL;
    wfc_status st = wfc_decrypt_request(bodies[at].data, bodies[at].len, key, &request);
    if (st == WFC_STATUS_OK) {
      st = wfc_decrypted_request_plaintext(request, plaintext, 1 << 20, &len);
    }
    if (st == WFC_STATUS_OK) {
      st = wfc_decrypted_request_encrypt_response(request, (const uint8_t *)ANSWER,
                                                  sizeof ANSWER - 1, answer, 1 << 12, &answer_len);
    }
    wfc_decrypted_request_free(request);
    if (st != WFC_STATUS_OK || len != plaintext_len[at] || answer_len == 0) {
      CHECK(0, "request %ld: %s (%s)", n, wfc_status_str(st), last_error());
      break;
    }
    sample(&track, n);
  }
  report(&track);

  f = open_fixture(argv[1], "media.fix");
  while (read_record(f, m, 6)) {
    if (file == NULL && strstr((const char *)m[0].data, "1048579") != NULL && m[3].data[0] == '1') {
      file = read_file((const char *)m[1].data, &file_len);
      want = read_file((const char *)m[4].data, &want_len);
      CHECK_STATUS(wfc_media_metadata_from_json(m[2].data, m[2].len, &metadata), WFC_STATUS_OK,
                   "metadata");
    }
    free_record(m, 6);
  }
  fclose(f);
  CHECK(file != NULL && file_len > (1 << 20), "the 1 MiB media vector");
  out = xmalloc(file_len + CHUNK);
  memset(&track, 0, sizeof track);
  track.phase = "media";
  track.iterations = media;
  for (n = 0; file != NULL && n < media; n++) {
    wfc_media_decryptor *decryptor = NULL;
    size_t at = 0, written = 0, len = 0;
    wfc_status st = wfc_media_decryptor_new(metadata, &decryptor);
    while (st == WFC_STATUS_OK && at < file_len) {
      size_t chunk = file_len - at < CHUNK ? file_len - at : CHUNK;
      st = wfc_media_decryptor_update(decryptor, file + at, chunk, out + written,
                                      file_len + CHUNK - written, &len);
      at += chunk;
      written += len;
    }
    if (st == WFC_STATUS_OK) {
      st = wfc_media_decryptor_finish(decryptor, out + written, file_len + CHUNK - written, &len);
      written += len;
    }
    wfc_media_decryptor_free(decryptor);
    if (st != WFC_STATUS_OK || !bytes_eq(out, written, want, want_len)) {
      CHECK(0, "media %ld: %s (%s)", n, wfc_status_str(st), last_error());
      break;
    }
    sample(&track, n);
  }
  report(&track);

  for (i = 0; i < count; i++) {
    free(bodies[i].data);
  }
  free(out);
  free(file);
  free(want);
  free(plaintext);
  free(answer);
  wfc_media_metadata_free(metadata);
  wfc_private_key_free(key);
  free(pem);
  return finish_tests("soak");
}
