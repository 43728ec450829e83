/* Small helpers shared by the C tests: checks that count, file and fixture reading. */
#ifndef WFC_TESTUTIL_H
#define WFC_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wa_flows_crypto.h"

static int tests_passed = 0;
static int tests_failed = 0;

#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    if (cond) {                                                                 \
      tests_passed++;                                                           \
    } else {                                                                    \
      tests_failed++;                                                           \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
      fprintf(stderr, __VA_ARGS__);                                             \
      fputc('\n', stderr);                                                      \
    }                                                                           \
  } while (0)

#define CHECK_STATUS(status, expected, what)                                    \
  CHECK((status) == (expected), "%s: got %s, expected %s (%s)", (what),        \
        wfc_status_str(status), wfc_status_str(expected), last_error())

static int finish_tests(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, tests_passed, tests_failed);
  return tests_failed == 0 ? 0 : 1;
}

/* The last error message as a NUL-terminated string (static buffer). */
static const char *last_error(void) {
  static char message[1024];
  size_t len = 0;
  if (wfc_last_error_message((uint8_t *)message, sizeof message - 1, &len) !=
      WFC_STATUS_OK) {
    return "(message too long)";
  }
  message[len] = '\0';
  return message;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n == 0 ? 1 : n);
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

/* Reads a whole file; *len receives its length. Exits on error. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *data;
  long size;
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot size %s\n", path);
    exit(2);
  }
  data = xmalloc((size_t)size + 1);
  if (size > 0 && fread(data, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  data[size] = 0;
  fclose(f);
  *len = (size_t)size;
  return data;
}

/* One field of a fixture: `<length>\n<bytes>\n`, NUL-terminated copy. */
typedef struct {
  uint8_t *data;
  size_t len;
} field;

/* Returns 0 at a clean end of file, 1 on success; exits on a damaged fixture. */
static int read_field(FILE *f, field *out) {
  unsigned long len;
  int c;
  if (fscanf(f, "%lu", &len) != 1) {
    if (feof(f)) {
      return 0;
    }
    fprintf(stderr, "damaged fixture\n");
    exit(2);
  }
  if (fgetc(f) != '\n') {
    fprintf(stderr, "damaged fixture (length line)\n");
    exit(2);
  }
  out->data = xmalloc((size_t)len + 1);
  if (len > 0 && fread(out->data, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "damaged fixture (short field)\n");
    exit(2);
  }
  out->data[len] = 0;
  out->len = (size_t)len;
  c = fgetc(f);
  if (c != '\n') {
    fprintf(stderr, "damaged fixture (field end)\n");
    exit(2);
  }
  return 1;
}

/* Reads `n` fields of one record; returns 0 at the end of the file. */
static int read_record(FILE *f, field *fields, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (!read_field(f, &fields[i])) {
      if (i == 0) {
        return 0;
      }
      fprintf(stderr, "damaged fixture (partial record)\n");
      exit(2);
    }
  }
  return 1;
}

static void free_record(field *fields, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    free(fields[i].data);
  }
}

static FILE *open_fixture(const char *dir, const char *name) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open fixture %s (run gen_fixtures.py first)\n", path);
    exit(2);
  }
  return f;
}

static int bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

#endif /* WFC_TESTUTIL_H */
