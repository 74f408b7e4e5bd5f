/*
 * sign_key.c: where a signing key comes from (issue 8 item 4): a PEM file that only
 * its owner may read, or a key that never leaves a PKCS#11 token, addressed by an
 * RFC 7512 URI and used through OpenSSL's "pkcs11" engine (libp11,
 * Debian's libengine-pkcs11-openssl). sign.c turns either into an xmlSecKey.
 *
 * The ENGINE API is deprecated in OpenSSL 3.0 but is the only PKCS#11 route Debian 12
 * ships (no pkcs11-provider), so this file alone suppresses the deprecation warnings.
 * Nothing here prompts: the PIN is what the caller read from a file or the
 * environment, and libp11 gets a UI method that refuses to ask (trap 10).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "formats/formats.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/ui.h>

#include "formats/sign_int.h"

/* ---- key files ------------------------------------------------------------------- */

int fmt_key_file_read(char **out, size_t *outlen, const char *path, bool allow_insecure,
		      jos_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc = JOS_OK;
	*out = NULL;
	*outlen = 0;
	/* The mode is checked on the file that is read (fstat), not on the name. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = jos_err_set(err, JOS_EIO, path, 0, "cannot stat: %s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = jos_err_set(err, JOS_ECRYPTO, path, 0, "the private key is not a regular file");
		goto done;
	}
	/* As OpenSSH does for its keys: any access for group or others is refused. */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) && !allow_insecure) {
		rc = jos_err_set(err, JOS_ECRYPTO, path, 0,
				 "the private key file is accessible by group or others (mode %04o): "
				 "run chmod 600 on it, or pass --allow-insecure-key-file",
				 (unsigned)(st.st_mode & 07777));
		goto done;
	}
	if (st.st_size > (1 << 20)) {
		rc = jos_err_set(err, JOS_EIO, path, 0, "file is larger than %d bytes", 1 << 20);
		goto done;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = jos_err_set(err, JOS_ENOMEM, path, 0, "out of memory");
		goto done;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = jos_err_set(err, JOS_EIO, path, 0, "cannot read: %s", strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
done:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

/* ---- passphrase or PIN ----------------------------------------------------------- */

int fmt_key_pass(char **out, const char *file, const char *env_name, jos_err *err)
{
	*out = NULL;
	if (file && env_name)
		return jos_err_set(err, JOS_EUSAGE, "", 0,
				   "give --key-pass-file or --key-pass-env, not both");
	if (env_name) {
		const char *v = getenv(env_name);
		if (!v)
			return jos_err_set(err, JOS_EUSAGE, "", 0,
					   "--key-pass-env: the environment variable %s is not set", env_name);
		*out = strdup(v);
		return *out ? JOS_OK : jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	}
	if (!file)
		return JOS_OK;
	size_t len;
	int rc = fmt_read_file(out, &len, file, 4096, err);
	if (rc)
		return rc == JOS_EIO ? JOS_ECRYPTO : rc;
	(*out)[strcspn(*out, "\r\n")] = '\0';
	return JOS_OK;
}

void fmt_key_pass_free(char *pass)
{
	if (!pass)
		return;
	OPENSSL_cleanse(pass, strlen(pass));
	free(pass);
}

/* ---- PKCS#11 --------------------------------------------------------------------- */

bool fmt_key_is_pkcs11(const char *key)
{
	return key && strncasecmp(key, "pkcs11:", 7) == 0;
}

/* libp11 asks its UI method for a PIN it was not given: answer nothing, never the
 * terminal. */
static int no_prompt(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The first error OpenSSL queued: for a token it is the PKCS#11 module's answer (e.g.
 * "PIN incorrect"), where the last one is only the engine's "failed loading". */
static const char *ssl_reason(void)
{
	static char buf[200];
	unsigned long e = ERR_peek_error();
	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = jos_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Splits uri into what libp11 0.4 understands (*out, malloc'd) and the module-path
 * query attribute (*module, malloc'd or NULL), which libp11 0.4 refuses but RFC 7512
 * defines. pin-value and pin-source are refused: the PIN comes from --key-pass-file or
 * --key-pass-env, never from the command line. Percent-encoding in module-path is
 * decoded. */
int fmt_pkcs11_uri_split(char **out, char **module, const char *uri, jos_err *err)
{
	size_t n = strlen(uri);
	char *o = malloc(n + 1), *m = NULL;
	*out = NULL;
	*module = NULL;
	if (!o)
		return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : n;
	memcpy(o, uri, plen);
	o[plen] = '\0';
	/* path attributes: refuse a PIN there too (some tools accept it) */
	for (const char *p = o + 7; *p;) {
		size_t al = strcspn(p, ";");
		if (strncmp(p, "pin-value=", 10) == 0 || strncmp(p, "pin-source=", 11) == 0)
			goto pin;
		p += al;
		if (*p == ';')
			p++;
	}
	char sep = '?';
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		size_t al = strcspn(p, "&");
		if (al >= 10 && strncmp(p, "pin-value=", 10) == 0)
			goto pin;
		if (al >= 11 && strncmp(p, "pin-source=", 11) == 0)
			goto pin;
		if (al >= 12 && strncmp(p, "module-name=", 12) == 0) {
			free(m);
			free(o);
			return jos_err_set(err, JOS_EUSAGE, "", 0,
					   "--key: module-name is not supported in the PKCS#11 URI: "
					   "give the module's file with module-path");
		}
		if (al >= 12 && strncmp(p, "module-path=", 12) == 0) {
			free(m);
			m = malloc(al - 12 + 1);
			if (!m) {
				free(o);
				return jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
			}
			size_t k = 0;
			for (size_t i = 12; i < al; i++) {
				int hi, lo;
				if (p[i] == '%' && i + 2 < al && (hi = hexval(p[i + 1])) >= 0 &&
				    (lo = hexval(p[i + 2])) >= 0) {
					m[k++] = (char)(hi * 16 + lo);
					i += 2;
				} else {
					m[k++] = p[i];
				}
			}
			m[k] = '\0';
			if (k == 0 || strlen(m) != k) {
				free(m);
				free(o);
				return jos_err_set(err, JOS_EUSAGE, "", 0, "--key: empty or invalid module-path");
			}
		} else {
			size_t ol = strlen(o);
			o[ol] = sep;
			memcpy(o + ol + 1, p, al);
			o[ol + 1 + al] = '\0';
			sep = '&';
		}
		p += al;
		if (*p == '&')
			p++;
	}
	*out = o;
	*module = m;
	return JOS_OK;
pin:
	free(m);
	free(o);
	return jos_err_set(err, JOS_EUSAGE, "", 0,
			   "--key: a PIN in the PKCS#11 URI (pin-value, pin-source) is not accepted: "
			   "give it with --key-pass-file or --key-pass-env");
}

/* xmlsec 1.2.37 built for OpenSSL 3 takes an RSA key for a private one only when
 * EVP_PKEY_get_bn_param(d) succeeds; a token never reveals d, so xmlsec would refuse
 * the key for signing. libp11's RSA method signs inside the token and never reads d,
 * so a placeholder d (1) makes xmlsec accept the key without changing what signs.
 * fmt_key_selftest then proves that a signature made this way verifies with the
 * certificate. Only RSA: an EC token key is refused. */
static int mark_private(EVP_PKEY *pk, const char *uri, jos_err *err)
{
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return jos_err_set(err, JOS_ECRYPTO, "", 0,
				   "--key %s: only RSA keys are supported in a PKCS#11 token", uri);
	RSA *rsa = EVP_PKEY_get1_RSA(pk);
	const BIGNUM *d = NULL;
	int rc = JOS_OK;
	if (!rsa)
		return jos_err_set(err, JOS_ECRYPTO, "", 0, "--key %s: not an RSA key (%s)", uri, ssl_reason());
	RSA_get0_key(rsa, NULL, NULL, &d);
	if (!d) {
		BIGNUM *one = BN_new();
		if (!one || !BN_one(one) || !RSA_set0_key(rsa, NULL, NULL, one)) {
			BN_free(one);
			rc = jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
		}
	}
	RSA_free(rsa);
	return rc;
}

/* libp11 keeps the key methods it makes in static variables and makes more while
 * OpenSSL cleans up at exit; when OpenSSL unloads the engine those blocks become
 * unreachable and valgrind calls them lost. Mapping the engine once more with
 * RTLD_NODELETE keeps it (and them) in place until the process ends. Best effort:
 * ENGINE_by_id reports any real failure. */
static void pin_engine_library(void)
{
	static bool done;
	char path[4096];
	const char *dir = getenv("OPENSSL_ENGINES");
	if (done)
		return;
	done = true;
	if (!dir) {
		/* "ENGINESDIR: \"/usr/lib/x86_64-linux-gnu/engines-3\"" */
		const char *v = OpenSSL_version(OPENSSL_ENGINES_DIR), *q = v ? strchr(v, '"') : NULL;
		const char *e = q ? strchr(q + 1, '"') : NULL;
		if (!e)
			return;
		snprintf(path, sizeof path, "%.*s/pkcs11.so", (int)(e - q - 1), q + 1);
	} else {
		snprintf(path, sizeof path, "%s/pkcs11.so", dir);
	}
	(void)dlopen(path, RTLD_NOW | RTLD_NODELETE);
}

int fmt_pkcs11_load(EVP_PKEY **out, void **engine, const char *uri, const char *pin, jos_err *err)
{
	char *u = NULL, *module = NULL;
	ENGINE *e = NULL;
	UI_METHOD *ui = NULL;
	bool inited = false;
	int rc;
	*out = NULL;
	*engine = NULL;
	ERR_clear_error();
	if ((rc = fmt_pkcs11_uri_split(&u, &module, uri, err)) != JOS_OK)
		return rc;
	pin_engine_library();
	e = ENGINE_by_id("pkcs11");
	if (!e) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0,
				 "--key %s: the OpenSSL PKCS#11 engine \"pkcs11\" cannot be loaded "
				 "(Debian: apt-get install libengine-pkcs11-openssl) (%s)", u, ssl_reason());
		goto done;
	}
	/* The module: module-path from the URI, else PKCS11_MODULE_PATH, else p11-kit's
	 * proxy, which offers every module registered with p11-kit (softhsm2 registers
	 * itself): libp11's own default, named here so that errors can name it. */
	const char *mod = module ? module : getenv("PKCS11_MODULE_PATH");
	if (!mod || !*mod)
		mod = "p11-kit-proxy.so";
	if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", mod, 0)) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "--key: the PKCS#11 engine refuses module %s (%s)",
				 mod, ssl_reason());
		goto done;
	}
	if (pin && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "--key: the PKCS#11 engine refuses the PIN (%s)",
				 ssl_reason());
		goto done;
	}
	if (!ENGINE_init(e)) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "--key: cannot start the PKCS#11 engine with module %s (%s)",
				 mod, ssl_reason());
		goto done;
	}
	inited = true;
	ui = UI_UTIL_wrap_read_pem_callback(no_prompt, 0);
	if (!ui) {
		rc = jos_err_set(err, JOS_ENOMEM, "", 0, "out of memory");
		goto done;
	}
	EVP_PKEY *pk = ENGINE_load_private_key(e, u, ui, NULL);
	if (!pk) {
		const char *r = ssl_reason();
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "--key %s: no private key%s (%s)", u,
				 pin ? "" : " (no PIN given: --key-pass-file or --key-pass-env)", r);
		goto done;
	}
	if ((rc = mark_private(pk, u, err)) != JOS_OK) {
		EVP_PKEY_free(pk);
		goto done;
	}
	*out = pk;
	*engine = e;
	e = NULL;
	rc = JOS_OK;
done:
	UI_destroy_method(ui);
	if (e) {
		if (inited)
			ENGINE_finish(e);
		ENGINE_free(e);
	}
	free(module);
	free(u);
	return rc;
}

int fmt_key_selftest(EVP_PKEY *pk, EVP_PKEY *pub, const char *what, jos_err *err)
{
	static const unsigned char msg[] = "jos-settle: does this key sign for this certificate?";
	unsigned char md[32], sig[1024];
	size_t siglen = sizeof sig;
	int ok = 0;
	EVP_PKEY_CTX *c = NULL;
	if (!SHA256(msg, sizeof msg - 1, md))
		goto done;
	c = EVP_PKEY_CTX_new(pk, NULL);
	if (!c || EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0)
		goto done;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0)
		goto done;
	if (EVP_PKEY_sign(c, sig, &siglen, md, sizeof md) <= 0)
		goto done;
	EVP_PKEY_CTX_free(c);
	c = EVP_PKEY_CTX_new(pub, NULL);
	if (!c || EVP_PKEY_verify_init(c) <= 0 || EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0)
		goto done;
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0)
		goto done;
	ok = EVP_PKEY_verify(c, sig, siglen, md, sizeof md) == 1;
done:
	EVP_PKEY_CTX_free(c);
	if (ok)
		return JOS_OK;
	return jos_err_set(err, JOS_ECRYPTO, "", 0,
			   "--key %s: a test signature does not verify with the certificate (%s)", what,
			   ssl_reason());
}

void fmt_pkcs11_release(void *engine)
{
	if (!engine)
		return;
	ENGINE_finish(engine);
	ENGINE_free(engine);
}
