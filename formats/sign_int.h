/*
 * sign_int.h: internals shared by sign.c, verify.c and their tests (not part of the
 * formats.h contract).
 */
#ifndef JOS_SIGN_INT_H
#define JOS_SIGN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "engine/jos.h"
#include "formats/formats.h"

/* Key sources (sign_key.c). A key file is read whole after fstat shows it is a
 * regular file with no access for group or others (unless allow_insecure); *out is
 * NUL-terminated, malloc'd, and should be cleansed before free. */
int fmt_key_file_read(char **out, size_t *outlen, const char *path, bool allow_insecure,
		      jos_err *err);
/* true when key is an RFC 7512 URI ("pkcs11:..."). */
bool fmt_key_is_pkcs11(const char *key);
/* The URI libp11 gets (*out) and the module-path query attribute (*module or NULL),
 * both malloc'd; JOS_EUSAGE for pin-value / pin-source (no PIN on the command line). */
int fmt_pkcs11_uri_split(char **out, char **module, const char *uri, jos_err *err);
/* The private key behind uri, through OpenSSL's "pkcs11" engine, logged in with pin
 * (may be NULL; never prompts). *engine must outlive every use of *out and is then
 * released with fmt_pkcs11_release. */
int fmt_pkcs11_load(EVP_PKEY **out, void **engine, const char *uri, const char *pin, jos_err *err);
void fmt_pkcs11_release(void *engine);
/* Signs a fixed digest with pk and verifies it with pub (the certificate's key): proves
 * that a key which never leaves its token belongs to the certificate. what names the key. */
int fmt_key_selftest(EVP_PKEY *pk, EVP_PKEY *pub, const char *what, jos_err *err);

/* RSA >= 2048 bits or EC P-256; *is_ec tells which. JOS_ECRYPTO with why otherwise. */
int fmt_key_check(const EVP_PKEY *pk, bool *is_ec, char *why, size_t whylen);
/* Appends the unsigned ds:Signature template to the root of doc (an xmlDocPtr). */
int fmt_sign_template(void *doc, bool ec, void **out_signode, jos_err *err);
/* The signer's xmlsec key (an xmlSecKeyPtr, borrowed), for formats/sign_fast.c. */
void *fmt_signer_xmlsec_key(fmt_signer *s);
/* The last message xmlsec reported (its callback is silenced by fmt_crypto_init). */
const char *fmt_xmlsec_last_error(void);
void fmt_xmlsec_clear_error(void);

/* Verification stages, exposed so that tests can prove each defence on its own
 * (e.g. that xmlsec itself refuses a file:// Reference or a bare KeyValue key even if
 * the shape checks before it were bypassed). doc is an xmlDocPtr. */
typedef struct fmt_verifier fmt_verifier;
int fmt_verify_shape(void *doc, char *why, size_t whylen);
/* sign_key: the xmlSecKeyPtr to verify with (borrowed), or NULL to let xmlsec take the
 * key from KeyInfo, restricted to X509 certificates that chain to the trusted ones. */
int fmt_verify_xmlsec(fmt_verifier *v, void *doc, time_t at, void *sign_key, char *why,
		      size_t whylen);
/* Stage 6 as xmlSecDSigCtxVerify checks it for the shape fmt_verify_shape accepts, with
 * xmlsec's transforms but node sets evaluated directly (much faster on big statements);
 * the default. key: the signer's xmlSecKeyPtr (borrowed); ec: ECDSA-SHA256, else
 * RSA-SHA256. Only for a document that passed fmt_verify_shape. */
int fmt_verify_fast(void *doc, void *key, bool ec, char *why, size_t whylen);
/* For tests: the canonical bytes stage 6 digests for doc (after fmt_verify_shape), *out
 * malloc'd; how 0: written directly (1 when doc is not the one layout that path takes),
 * 1: by libxml2's C14N with the node-set callback; 2 and 3: the same for SignedInfo. */
int fmt_verify_c14n(void *doc, int how, char **out, size_t *outlen);
/* Stage 6 by fmt_verify_xmlsec (on) or fmt_verify_fast (off, the default unless
 * JOS_VERIFY_XMLSEC=1 when the verifier was opened). */
void fmt_verifier_set_xmlsec(fmt_verifier *v, bool on);
/* 12:00:00 UTC on the statement's IssueDate: the moment certificates are checked at
 * (or the signer certificate's notBefore when later, see check_cert). */
time_t fmt_verify_time(jos_day issue_date);

#endif
