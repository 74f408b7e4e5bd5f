/*
 * fault.c: fault injection for the torture build of jos-settle (tests/torture.sh,
 * tests/crashsafe.sh), in the manner of curl's torture tests and SQLite's fault
 * simulation: the Nth allocation, or the Nth write-side file call, fails.
 *
 * Linked into a copy of the binary with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,--wrap=posix_memalign,
 *   --wrap=write,--wrap=fsync,--wrap=syncfs,--wrap=open,--wrap=close,--wrap=rename,--wrap=mkdir,
 *   --wrap=unlink,--wrap=rmdir
 * so every such call in engine/ formats/ keys/ goes through here. libxml2 and xmlsec
 * (xmlMemSetup) and OpenSSL (CRYPTO_set_mem_functions) are pointed at the same
 * counting allocator from a constructor, before they allocate anything, so their
 * allocations fail too: that is the point (their error paths must reach ours).
 * What is NOT counted: libc's own allocations (stdio buffers, opendir, backtrace) and
 * the sanitizer runtime's; stdio output (messages must still be printable).
 *
 * Environment:
 *   JOS_FAULT_KIND  alloc | write | kill  (kill: SIGKILL ourselves at the Nth write call)
 *   JOS_FAULT_AT    N >= 1: the Nth call of that kind fails (once; later calls succeed,
 *                   so error paths that allocate are exercised too). Unset/0: none fail.
 *   JOS_FAULT_LOG   FILE: per call of JOS_FAULT_KIND one line "N FRAME..." (its call stack,
 *                   each frame as module+0xoffset, stable across runs despite ASLR), and
 *                   at exit "calls KIND N" per kind. tests/torture.sh derives call sites
 *                   from it and fails only the first call of each distinct site.
 * A failed allocation returns NULL with errno ENOMEM; a failed write-side call returns
 * -1 with errno EIO (ENOSPC for write) without doing anything.
 */
#define _GNU_SOURCE
#include <link.h>
#include <dlfcn.h>
#include <ucontext.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/xmlmemory.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_syncfs(int fd);
int __real_open(const char *path, int flags, ...);
int __real_close(int fd);
int __real_rename(const char *a, const char *b);
int __real_mkdir(const char *path, mode_t mode);
int __real_unlink(const char *path);
int __real_rmdir(const char *path);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_syncfs(int fd);
int __wrap_open(const char *path, int flags, ...);
int __wrap_close(int fd);
int __wrap_rename(const char *a, const char *b);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_unlink(const char *path);
int __wrap_rmdir(const char *path);

enum { K_ALLOC, K_WRITE, K_NONE };
static const char *const kind_names[] = { "alloc", "write" };

static int armed;          /* counting starts once the constructor has run */
static int kind = K_NONE;  /* which kind JOS_FAULT_AT applies to */
static int kill_mode;      /* JOS_FAULT_KIND=kill */
static unsigned long fault_at;
static unsigned long calls[2];
static FILE *site_log;
static __thread int busy;  /* no counting while we record a site */

/* The loaded modules' address ranges, read once (dladdr per frame is too slow). */
typedef struct {
	char name[64];
	uintptr_t base, lo, hi;
} module;
static module mods[64];
static int nmods;

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
	if (nmods == (int)(sizeof mods / sizeof mods[0]))
		return 1;
	module *m = &mods[nmods];
	const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "jos-settle";
	const char *slash = strrchr(name, '/');
	snprintf(m->name, sizeof m->name, "%s", slash ? slash + 1 : name);
	m->base = (uintptr_t)info->dlpi_addr;
	m->lo = UINTPTR_MAX;
	m->hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = m->base + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (lo < m->lo)
			m->lo = lo;
		if (hi > m->hi)
			m->hi = hi;
	}
	if (m->hi > m->lo)
		nmods++;
	return 0;
}

/* Writes "N OP" and the call stack as "module+0xoffset" per frame (stable across runs
 * despite ASLR). */
__attribute__((noinline)) static void log_stack(unsigned long n, const char *op)
{
	void *frames[16];
	int depth = backtrace(frames, 16);
	if (!nmods)
		dl_iterate_phdr(add_module, NULL);
	fprintf(site_log, "%lu %s", n, op);
	/* frames 0..3 are backtrace's interceptor (ASan), here, record() and the hook */
	for (int i = 4; i < depth; i++) {
		uintptr_t a = (uintptr_t)frames[i];
		int k = 0;
		while (k < nmods && (a < mods[k].lo || a >= mods[k].hi))
			k++;
		if (k < nmods)
			fprintf(site_log, " %s+0x%lx", mods[k].name, (unsigned long)(a - mods[k].base));
		else
			fprintf(site_log, " ?+0x%lx", (unsigned long)a);
	}
	fputc('\n', site_log);
}

/* Counts one call; true when it is the one to fail. */
__attribute__((noinline)) static int record(int k, const char *op)
{
	if (!armed || busy)
		return 0;
	unsigned long n = ++calls[k];
	if (k == kind && site_log) {
		busy = 1;
		log_stack(n, op);
		busy = 0;
	}
	if (k != kind || n != fault_at)
		return 0;
	if (kill_mode)
		kill(getpid(), SIGKILL);
	return 1;
}

void *__wrap_malloc(size_t n)
{
	if (record(K_ALLOC, "malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (record(K_ALLOC, "calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (record(K_ALLOC, "realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	if (record(K_ALLOC, "strdup")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (record(K_ALLOC, "strndup")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strndup(s, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
	if (record(K_ALLOC, "posix_memalign"))
		return ENOMEM;
	return __real_posix_memalign(p, align, n);
}

#define FAIL_IO(op, e)                    \
	do {                           \
		if (record(K_WRITE, op)) { \
			errno = (e);   \
			return -1;     \
		}                      \
	} while (0)

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	FAIL_IO("write", ENOSPC);
	return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
	FAIL_IO("fsync", EIO);
	return __real_fsync(fd);
}

int __wrap_syncfs(int fd)
{
	FAIL_IO("syncfs", EIO);
	return __real_syncfs(fd);
}

/* Only opens that may create or write count; reading input is not a write. */
int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (flags & (O_WRONLY | O_RDWR | O_CREAT))
		FAIL_IO("open", EIO);
	return __real_open(path, flags, mode);
}

int __wrap_close(int fd)
{
	/* a failed close still closes the descriptor, as on Linux */
	int fail = record(K_WRITE, "close");
	int rc = __real_close(fd);
	if (fail) {
		errno = EIO;
		return -1;
	}
	return rc;
}

int __wrap_rename(const char *a, const char *b)
{
	FAIL_IO("rename", EIO);
	return __real_rename(a, b);
}

int __wrap_mkdir(const char *path, mode_t mode)
{
	FAIL_IO("mkdir", EIO);
	return __real_mkdir(path, mode);
}

int __wrap_unlink(const char *path)
{
	FAIL_IO("unlink", EIO);
	return __real_unlink(path);
}

int __wrap_rmdir(const char *path)
{
	FAIL_IO("rmdir", EIO);
	return __real_rmdir(path);
}

/* libxml2 (and xmlsec, which allocates through xmlMalloc) */
static void x_free(void *p)
{
	free(p);
}

static void *x_malloc(size_t n)
{
	if (record(K_ALLOC, "xmlMalloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

static void *x_realloc(void *p, size_t n)
{
	if (record(K_ALLOC, "xmlRealloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

static char *x_strdup(const char *s)
{
	if (record(K_ALLOC, "xmlStrdup")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

/* OpenSSL */
static void *o_malloc(size_t n, const char *file, int line)
{
	if (record(K_ALLOC, "CRYPTO_malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

static void *o_realloc(void *p, size_t n, const char *file, int line)
{
	if (record(K_ALLOC, "CRYPTO_realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

static void o_free(void *p, const char *file, int line)
{
	free(p);
}

/*
 * OpenSSL 3 does its one-time initialisation lazily, inside CRYPTO_THREAD_run_once and
 * the library context's per-index initialisers, and does not survive an allocation
 * failing there: a lock stays NULL and the next CRYPTO_THREAD_read_lock crashes (seen:
 * SEGV under EVP_MD_fetch after a failed CRYPTO_malloc in the default context's setup).
 * That is OpenSSL's bug, not ours, and no caller can recover from it; so that one-time
 * setup is done here, before counting starts, by touching what jos-settle uses: the
 * digests, RSA/EC key management and signatures, the DRBG and the PEM decoders. All
 * later allocations, OpenSSL's included, are counted and failed.
 */
static void warm_up_openssl(void)
{
	static const char pub[] = "-----BEGIN PUBLIC KEY-----\n"
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcmExS4vEOTXhmRxG0LS89dVoJVbU\n"
		"meSROTQwvlgh+0dvK5wXteYMCpZ/XbKt7O/z54pr90AcIEl7+sKbQzIv+Q==\n"
		"-----END PUBLIC KEY-----\n";
	unsigned char md[EVP_MAX_MD_SIZE], rnd[8];
	unsigned int mdlen;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_ADD_ALL_CIPHERS |
			    OPENSSL_INIT_ADD_ALL_DIGESTS | OPENSSL_INIT_LOAD_CONFIG, NULL);
	EVP_Digest("", 0, md, &mdlen, EVP_sha256(), NULL);
	EVP_MD_free(EVP_MD_fetch(NULL, "SHA256", NULL));
	EVP_MD_free(EVP_MD_fetch(NULL, "SHA1", NULL));
	EVP_SIGNATURE_free(EVP_SIGNATURE_fetch(NULL, "RSA", NULL));
	EVP_SIGNATURE_free(EVP_SIGNATURE_fetch(NULL, "ECDSA", NULL));
	EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(NULL, "RSA", NULL));
	EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(NULL, "EC", NULL));
	RAND_bytes(rnd, sizeof rnd);
	BIO *bio = BIO_new_mem_buf(pub, -1);
	EVP_PKEY_free(bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL);
	BIO_free(bio);
	ERR_clear_error();
}

static void write_log(void)
{
	if (!site_log)
		return;
	armed = 0;
	for (int k = 0; k < 2; k++)
		fprintf(site_log, "calls %s %lu\n", kind_names[k], calls[k]);
	fclose(site_log);
	site_log = NULL;
}

#ifndef __SANITIZE_ADDRESS__
/* Without the sanitizers a crash leaves no stack: say in which object it happened, so
 * tests/torture.sh can tell a crash inside a library (libxml2's schema code under a failed
 * allocation: docs/hardening.md) from one in ours. For SIGSEGV/SIGBUS the faulting
 * instruction; for SIGABRT the first frame outside libc (who called abort). */
static const char *object_of(void *pc)
{
	Dl_info d;
	return pc && dladdr(pc, &d) && d.dli_fname ? d.dli_fname : "?";
}

static void crash_handler(int sig, siginfo_t *si, void *ucv)
{
	void *pc = NULL, *frames[32];
	(void)si;
#if defined(__x86_64__)
	pc = (void *)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
#else
	(void)ucv;
#endif
	if (sig == SIGABRT) {
		int n = backtrace(frames, 32);
		pc = NULL;
		for (int i = 1; i < n && !pc; i++)   /* 0: this handler */
			if (!strstr(object_of(frames[i]), "libc.so"))
				pc = frames[i];
	}
	char buf[600];
	int len = snprintf(buf, sizeof buf, "torture: signal %d in %s\n", sig, object_of(pc));
	if (len > 0)
		(void)!__real_write(2, buf, (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_crashes(void)
{
	struct sigaction sa;
	void *warm[2];
	backtrace(warm, 2);   /* loads what backtrace needs now, not in the handler */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = crash_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
}
#endif

__attribute__((constructor)) static void fault_init(void)
{
	const char *k = getenv("JOS_FAULT_KIND"), *at = getenv("JOS_FAULT_AT");
	const char *log = getenv("JOS_FAULT_LOG");

	if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free))
		fputs("fault.c: CRYPTO_set_mem_functions refused: OpenSSL allocations are not counted\n",
		      stderr);
	warm_up_openssl();
	if (xmlMemSetup(x_free, x_malloc, x_realloc, x_strdup) != 0)
		fputs("fault.c: xmlMemSetup failed: libxml2 allocations are not counted\n", stderr);
	if (k && strcmp(k, "alloc") == 0)
		kind = K_ALLOC;
	else if (k && (strcmp(k, "write") == 0 || strcmp(k, "kill") == 0))
		kind = K_WRITE, kill_mode = strcmp(k, "kill") == 0;
	fault_at = at ? strtoul(at, NULL, 10) : 0;
	if (log && (site_log = fopen(log, "w")) != NULL)
		atexit(write_log);
#ifndef __SANITIZE_ADDRESS__
	catch_crashes();
#endif
	armed = 1;
}
