/*
 * sign.c: process-wide set-up of libxml2, xmlsec and OpenSSL, and enveloped XMLDSig
 * signing of statements (SPEC "Signature").
 *
 * Design against notes/xmlsec-1.2.37.md:
 *  - trap 13: init once from main, in the documented order, shut down in reverse;
 *    xmlSecInit() installs the entity loader that refuses external entities, and we
 *    never turn on xmlLoadExtDtdDefaultValue / xmlSubstituteEntitiesDefault (trap 6);
 *  - trap 10: the private key is read by OpenSSL with a passphrase callback that
 *    answers from memory or fails: nothing ever prompts on the terminal;
 *  - trap 11: key and certificate are compared (EVP_PKEY_eq) before any signature;
 *  - trap 12: fmt_sign serialises the tree exactly as signed (no re-indenting).
 * The key is loaded once per signer and shared by every signature (one signature
 * context per document), so signing hundreds of statements costs only the RSA math.
 */
#include "formats/formats.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>

#include "formats/sign_int.h"

/* ---- process set-up ------------------------------------------------------------- */

static int crypto_users;
static _Thread_local char last_xmlsec_error[256];   /* verify runs on several threads */

/* xmlsec reports through a callback that prints to stderr by default; a statement
 * that fails verification is an answer, not noise, so keep the last message only. */
static void xmlsec_quiet(const char *file, int line, const char *func, const char *errorObject,
			 const char *errorSubject, int reason, const char *msg)
{
	(void)file;
	(void)line;
	(void)errorObject;
	(void)reason;
	snprintf(last_xmlsec_error, sizeof last_xmlsec_error, "%s%s%s%s%s", func ? func : "",
		 errorSubject ? ": " : "", errorSubject ? errorSubject : "", msg ? ": " : "",
		 msg ? msg : "");
}

static void libxml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void libxml_quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

const char *fmt_xmlsec_last_error(void)
{
	return last_xmlsec_error;
}

void fmt_xmlsec_clear_error(void)
{
	last_xmlsec_error[0] = '\0';
}

int fmt_crypto_init(jos_err *err)
{
	if (crypto_users++ > 0)
		return JOS_OK;
	xmlInitParser();
	LIBXML_TEST_VERSION
	xmlSetGenericErrorFunc(NULL, libxml_quiet);
	xmlSetStructuredErrorFunc(NULL, libxml_quiet_structured);
	if (xmlSecInit() < 0) {
		crypto_users = 0;
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "xmlsec initialisation failed");
	}
	if (xmlSecCheckVersion() != 1) {
		xmlSecShutdown();
		crypto_users = 0;
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "the loaded xmlsec library is not the version built against");
	}
	xmlSecErrorsSetCallback(xmlsec_quiet);
	if (xmlSecCryptoAppInit(NULL) < 0) {
		xmlSecShutdown();
		crypto_users = 0;
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "xmlsec crypto (OpenSSL) initialisation failed");
	}
	if (xmlSecCryptoInit() < 0) {
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		crypto_users = 0;
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "xmlsec-openssl initialisation failed");
	}
	return JOS_OK;
}

void fmt_crypto_shutdown(void)
{
	if (crypto_users <= 0 || --crypto_users > 0)
		return;
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	xmlCleanupParser();
}

/* ---- keys ------------------------------------------------------------------------- */

/* OpenSSL's passphrase callback: the passphrase we were given, or failure. Never the
 * terminal (trap 10). */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *p = u;
	if (!p)
		return -1;
	size_t n = strlen(p);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}

static const char *ssl_reason(void)
{
	static char buf[160];
	unsigned long e = ERR_peek_last_error();
	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return buf;
}

int fmt_key_check(const EVP_PKEY *pk, bool *is_ec, char *why, size_t whylen)
{
	int id = EVP_PKEY_get_base_id(pk);
	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pk);
		if (bits < 2048) {
			snprintf(why, whylen, "RSA key of %d bits: at least 2048 are required", bits);
			return JOS_ECRYPTO;
		}
		*is_ec = false;
		return JOS_OK;
	}
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t gl = 0;
		if (EVP_PKEY_get_group_name(pk, group, sizeof group, &gl) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
			snprintf(why, whylen, "EC key on curve %s: only P-256 is allowed", group[0] ? group : "?");
			return JOS_ECRYPTO;
		}
		*is_ec = true;
		return JOS_OK;
	}
	snprintf(why, whylen, "key type %s is not allowed (RSA >= 2048 bits or EC P-256)",
		 OBJ_nid2sn(id) ? OBJ_nid2sn(id) : "?");
	return JOS_ECRYPTO;
}

struct fmt_signer {
	xmlSecKeyPtr key;     /* private key with the certificate(s) in its X509 data */
	bool ec;
	void *engine;         /* the PKCS#11 engine behind key, or NULL (sign_key.c) */
};

int fmt_signer_open(fmt_signer **out, const char *key_path, const char *cert_path,
		    const char *pass, jos_err *err)
{
	fmt_key_opts o = { .pass = pass, .allow_insecure = false };
	return fmt_signer_open_ex(out, key_path, cert_path, &o, err);
}

/* A PEM private key from a file only its owner may access (sign_key.c). */
static int pem_key_load(EVP_PKEY **out, const char *key_path, const fmt_key_opts *o, jos_err *err)
{
	char *kbuf = NULL;
	size_t klen = 0;
	int rc;
	*out = NULL;
	if ((rc = fmt_key_file_read(&kbuf, &klen, key_path, o->allow_insecure, err)) != JOS_OK)
		return rc;
	BIO *bio = BIO_new_mem_buf(kbuf, (int)klen);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)o->pass) : NULL;
	BIO_free(bio);
	if (!pk) {
		bool enc = strstr(kbuf, "ENCRYPTED") != NULL;
		const char *r = ssl_reason();
		if (enc && !o->pass)
			rc = jos_err_set(err, JOS_ECRYPTO, key_path, 0,
					 "the private key is encrypted: give its passphrase with "
					 "--key-pass-file or --key-pass-env");
		else if (enc)
			rc = jos_err_set(err, JOS_ECRYPTO, key_path, 0,
					 "cannot decrypt the private key: wrong passphrase? (%s)", r);
		else
			rc = jos_err_set(err, JOS_ECRYPTO, key_path, 0,
					 "not a PEM private key (%s)", r);
	}
	OPENSSL_cleanse(kbuf, klen);
	free(kbuf);
	*out = pk;
	return rc;
}

int fmt_signer_open_ex(fmt_signer **out, const char *key_path, const char *cert_path,
		       const fmt_key_opts *opts, jos_err *err)
{
	char *cbuf = NULL;
	size_t clen = 0;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	xmlSecKeyDataPtr kd = NULL;
	fmt_signer *s = NULL;
	void *engine = NULL;
	char why[200];
	int rc;
	*out = NULL;
	ERR_clear_error();

	/* the certificate is read first, so that a PKCS#11 login is not wasted on a typo */
	if ((rc = fmt_read_file(&cbuf, &clen, cert_path, 1 << 20, err)) != JOS_OK)
		goto done;
	if (fmt_key_is_pkcs11(key_path))
		rc = fmt_pkcs11_load(&pk, &engine, key_path, opts->pass, err);
	else
		rc = pem_key_load(&pk, key_path, opts, err);
	if (rc != JOS_OK)
		goto done;
	bool ec = false;
	if ((rc = fmt_key_check(pk, &ec, why, sizeof why)) != JOS_OK) {
		jos_err_set(err, rc, key_path, 0, "%s", why);
		goto done;
	}
	bio = BIO_new_mem_buf(cbuf, (int)clen);
	cert = bio ? PEM_read_bio_X509(bio, NULL, pass_cb, NULL) : NULL;
	if (!cert) {
		rc = jos_err_set(err, JOS_ECRYPTO, cert_path, 0, "not a PEM certificate (%s)", ssl_reason());
		goto done;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), pk) != 1) {
		rc = jos_err_set(err, JOS_ECRYPTO, cert_path, 0,
				 "the certificate does not belong to the private key %s", key_path);
		goto done;
	}
	if (engine && (rc = fmt_key_selftest(pk, X509_get0_pubkey(cert), key_path, err)) != JOS_OK)
		goto done;

	s = calloc(1, sizeof *s);
	if (!s) {
		rc = jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
		goto done;
	}
	s->ec = ec;
	s->engine = engine; /* released after the key, in fmt_signer_free */
	engine = NULL;
	/* the key first: were kd made first and the key not, pk would be freed twice */
	s->key = xmlSecKeyCreate();
	kd = s->key ? xmlSecOpenSSLEvpKeyAdopt(pk) : NULL;
	if (!kd) {
		rc = jos_err_set(err, JOS_ECRYPTO, key_path, 0, "xmlsec cannot take the key");
		goto done;
	}
	pk = NULL; /* adopted by kd */
	if (xmlSecKeySetValue(s->key, kd) < 0) {
		rc = jos_err_set(err, JOS_ECRYPTO, key_path, 0, "xmlsec cannot take the key");
		goto done;
	}
	kd = NULL; /* owned by the key */
	xmlSecKeyDataPtr x509 = xmlSecKeyEnsureData(s->key, xmlSecOpenSSLKeyDataX509Id);
	if (!x509) {
		rc = jos_err_set(err, JOS_ECRYPTO, cert_path, 0, "xmlsec cannot take the certificate");
		goto done;
	}
	/* The signer's certificate first, then any chain certificates in the same file;
	 * KeyInfo/X509Data gets them in this order. */
	for (X509 *c = cert; c; c = PEM_read_bio_X509(bio, NULL, pass_cb, NULL)) {
		if (xmlSecOpenSSLKeyDataX509AdoptCert(x509, c) < 0) {
			X509_free(c);
			cert = NULL;
			rc = jos_err_set(err, JOS_ECRYPTO, cert_path, 0, "xmlsec cannot take the certificate");
			goto done;
		}
		cert = NULL;
	}
	ERR_clear_error(); /* the end of the PEM file */
	*out = s;
	s = NULL;
	rc = JOS_OK;
done:
	BIO_free(bio);
	X509_free(cert);
	EVP_PKEY_free(pk);
	if (kd)
		xmlSecKeyDataDestroy(kd);
	fmt_signer_free(s);
	fmt_pkcs11_release(engine);
	free(cbuf);
	return rc;
}

void fmt_signer_free(fmt_signer *s)
{
	if (!s)
		return;
	if (s->key)
		xmlSecKeyDestroy(s->key);
	fmt_pkcs11_release(s->engine);
	free(s);
}

/* Appends the signature template (SPEC: enveloped, one Reference URI="", the
 * enveloped-signature and exclusive C14N transforms, sha256, KeyInfo/X509Data) as the
 * last child of the root. Also used by the tests to make templates for `xmlsec1 --sign`. */
int fmt_sign_template(void *vdoc, bool ec, void **out_signode, jos_err *err)
{
	xmlDocPtr doc = vdoc;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root)
		return jos_err_set(err, JOS_EINTERNAL, "", 0, "no document to sign");
	xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId,
							 ec ? xmlSecTransformEcdsaSha256Id
							    : xmlSecTransformRsaSha256Id,
							 NULL, BAD_CAST "ds");
	if (!sig)
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "cannot make the signature template");
	if (!xmlAddChild(root, sig)) {
		xmlFreeNode(sig);
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	}
	xmlNodePtr ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL,
							 BAD_CAST "", NULL);
	xmlNodePtr ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
	xmlNodePtr x5 = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
	if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
	    !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) || !x5 ||
	    !xmlSecTmplX509DataAddCertificate(x5))
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "cannot make the signature template");
	if (out_signode)
		*out_signode = sig;
	return JOS_OK;
}

int fmt_sign(char **out, size_t *outlen, fmt_signer *s, void *vdoc, jos_err *err)
{
	xmlDocPtr doc = vdoc;
	xmlNodePtr sig = NULL;
	xmlChar *mem = NULL;
	int size = 0, rc;
	*out = NULL;
	*outlen = 0;
	if ((rc = fmt_sign_template(doc, s->ec, (void **)&sig, err)) != JOS_OK)
		return rc;
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
	if (!ctx)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	fmt_xmlsec_clear_error();
	ctx->signKey = s->key;   /* borrowed: handed back before the context is destroyed */
	int r = xmlSecDSigCtxSign(ctx, sig);
	ctx->signKey = NULL;
	xmlSecDSigCtxDestroy(ctx);
	if (r < 0)
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "signing failed: %s", fmt_xmlsec_last_error());
	/* exactly as signed: no formatting, UTF-8 */
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (!mem || size <= 0) {
		xmlFree(mem);
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory writing the statement");
	}
	*out = malloc((size_t)size);
	if (!*out) {
		xmlFree(mem);
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	}
	memcpy(*out, mem, (size_t)size);
	*outlen = (size_t)size;
	xmlFree(mem);
	return JOS_OK;
}

/* 0 when the first ds:X509Certificate under sig is the signer's certificate. */
static int check_keyinfo_cert(fmt_signer *s, xmlNodePtr sig, jos_err *err)
{
	xmlSecKeyDataPtr x509 = xmlSecKeyGetData(s->key, xmlSecOpenSSLKeyDataX509Id);
	X509 *cert = x509 ? xmlSecOpenSSLKeyDataX509GetCert(x509, 0) : NULL;
	xmlNodePtr node = xmlSecFindNode(sig, xmlSecNodeX509Certificate, xmlSecDSigNs);
	xmlChar *text = node ? xmlNodeGetContent(node) : NULL;
	unsigned char *der = NULL, *b64 = NULL;
	int rc = JOS_ECRYPTO, n = cert ? i2d_X509(cert, &der) : -1;
	if (n > 0 && text && (b64 = malloc(((size_t)n + 2) / 3 * 4 + 1)) != NULL) {
		EVP_EncodeBlock(b64, der, n);
		bool same = true;
		/* equal when every non-blank character matched and both ended together */
		size_t k = 0;
		const xmlChar *t = text;
		for (; *t; t++) {
			if (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
				continue;
			if (!b64[k] || *t != b64[k]) {
				same = false;
				break;
			}
			k++;
		}
		rc = same && !b64[k] ? JOS_OK : JOS_ECRYPTO;
	} else if (n > 0 && text) {
		rc = JOS_ENOMEM;
	}
	OPENSSL_free(der);
	free(b64);
	xmlFree(text);
	if (rc == JOS_ENOMEM)
		return jos_err_set(err, rc, "", 0, "out of memory");
	if (rc != JOS_OK)
		return jos_err_set(err, JOS_ECRYPTO, "", 0,
				   "a statement just signed does not carry the signer's certificate "
				   "(out of memory?)");
	return JOS_OK;
}

int fmt_sign_check(fmt_signer *s, void *vdoc, jos_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement((xmlDocPtr)vdoc);
	xmlNodePtr sig = root ? xmlSecFindNode(root, xmlSecNodeSignature, xmlSecDSigNs) : NULL;
	if (!sig)
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "a signed statement has no signature");
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
	if (!ctx)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	fmt_xmlsec_clear_error();
	ctx->signKey = s->key;   /* borrowed, as in fmt_sign */
	int r = xmlSecDSigCtxVerify(ctx, sig);
	bool ok = r >= 0 && ctx->status == xmlSecDSigStatusSucceeded;
	ctx->signKey = NULL;
	xmlSecDSigCtxDestroy(ctx);
	if (!ok)
		return jos_err_set(err, JOS_ECRYPTO, "", 0,
				   "a statement just signed does not verify (out of memory?): %s",
				   r < 0 ? fmt_xmlsec_last_error() : "wrong digest or signature");
	/* KeyInfo lies outside what URI="" signs, so the check above passes even when its
	 * certificate was lost or damaged while signing under memory pressure (found by
	 * tests/torture.sh JOS_TORTURE_DEEP=1); nobody else could verify such a statement.
	 * The first X509Certificate must be the signer's, byte for byte. */
	return check_keyinfo_cert(s, sig, err);
}

void *fmt_signer_xmlsec_key(fmt_signer *s)
{
	return s ? s->key : NULL;
}

/* libxml2 keeps its error handlers per thread: a worker thread that parses or
 * verifies must silence them as fmt_crypto_init did for the main thread. */
void fmt_crypto_thread_init(void)
{
	xmlSetGenericErrorFunc(NULL, libxml_quiet);
	xmlSetStructuredErrorFunc(NULL, libxml_quiet_structured);
}
