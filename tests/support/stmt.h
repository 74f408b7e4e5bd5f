/*
 * stmt.h: test helpers for statements, signing and verification: a hand-made sample
 * statement, a throw-away PKI (tests/support/pki.sh, made with the openssl command at
 * test time), and small string helpers for building attacks from a signed statement.
 */
#ifndef JOS_TEST_STMT_H
#define JOS_TEST_STMT_H

#include <stddef.h>

#include "formats/formats.h"

/* A statement with two lines given out of order (S9 before S10), a Reference, payment
 * details, a weight and names that need XML escaping. Gross 2000.00, Net 1800.00. */
void test_stmt_sample(fmt_stmt *st);
/* Makes the PKI in a fresh temporary folder; returns its path (static buffer). */
const char *test_pki_make(void);
void test_pki_remove(void);
/* cmocka group setup/teardown: crypto initialised once and a fresh PKI, then both
 * undone (for test files that need nothing else). */
int test_crypto_pki_setup(void **state);
int test_crypto_pki_teardown(void **state);
/* "DIR/name" in a static rotating buffer. */
const char *test_pki(const char *name);
/* The sample (or st) signed by key/cert of the PKI ("signer" -> signer.key, signer.pem). */
char *test_sign_stmt(size_t *len, const fmt_stmt *st, const char *who);
/* A copy of s with the first occurrence of from replaced by to; NULL when absent. */
char *test_replace(const char *s, const char *from, const char *to);
/* Writes a file; returns 0 on success. */
int test_write(const char *path, const char *buf, size_t len);

#endif
