/*
 * digest.c: the statement's InputDigest (SPEC "InputDigest"): SHA-256 over, for each
 * input file that exists, in the fixed order, the bytes NAME "\n" LENGTH "\n" BYTES.
 * Files are streamed; the length is the number of bytes actually read, so a file that
 * changes while it is read still gives a digest of what was hashed.
 */
#include "formats/formats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

static const char *const digest_files[] = { "settlement.ini", "municipalities.csv",
					    "schools.csv",    "costs.csv",
					    "enrolments.csv", "agreements.csv" };

int fmt_input_digest(char out[65], const char *dir, jos_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], hash[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	char path[4096];
	int rc = JOS_OK;
	FILE *f = NULL;

	out[0] = '\0';
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "SHA-256 is not available");
		goto done;
	}
	for (size_t i = 0; i < sizeof digest_files / sizeof digest_files[0]; i++) {
		struct stat st;
		char head[64];
		snprintf(path, sizeof path, "%s/%s", dir, digest_files[i]);
		if (!(f = fopen(path, "rb"))) {
			if (errno == ENOENT)
				continue;
			rc = jos_err_set(err, JOS_EIO, digest_files[i], 0, "cannot open: %s",
					 strerror(errno));
			goto done;
		}
		if (fstat(fileno(f), &st) != 0) {
			rc = jos_err_set(err, JOS_EIO, digest_files[i], 0, "cannot stat: %s",
					 strerror(errno));
			goto done;
		}
		/* The length precedes the bytes: take it from fstat, then check that exactly
		 * that many bytes were read. */
		int hn = snprintf(head, sizeof head, "%s\n%lld\n", digest_files[i],
				  (long long)st.st_size);
		if (EVP_DigestUpdate(md, head, (size_t)hn) != 1) {
			rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "SHA-256 failed");
			goto done;
		}
		long long total = 0;
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
			total += (long long)n;
			if (EVP_DigestUpdate(md, buf, n) != 1) {
				rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "SHA-256 failed");
				goto done;
			}
		}
		if (ferror(f) || total != (long long)st.st_size) {
			rc = jos_err_set(err, JOS_EIO, digest_files[i], 0,
					 ferror(f) ? "read error" : "file changed while reading");
			goto done;
		}
		fclose(f);
		f = NULL;
	}
	if (EVP_DigestFinal_ex(md, hash, &hlen) != 1 || hlen != 32) {
		rc = jos_err_set(err, JOS_ECRYPTO, "", 0, "SHA-256 failed");
		goto done;
	}
	for (unsigned int i = 0; i < hlen; i++)
		snprintf(out + 2 * i, 3, "%02x", hash[i]);
done:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(md);
	return rc;
}
