/*
 * outdir.c: settle's output folder appears whole or not at all (SPEC "Outputs appear
 * all at once or not at all").
 *
 * Everything is written into ".NAME.jos-settle-tmp-PID" beside OUT_DIR, SHA256SUMS last,
 * every file and folder made durable, then the folder is renamed into place (and its
 * parent fsync'd). The files are made durable at commit, not one by one as they come (286 fsyncs in a row cost
 * settle a third of a second at national scale): on Linux with one syncfs(2) of the
 * file system that holds the temporary folder, which waits for every dirty page and
 * inode on it like an fsync of each file (and reports a write-back error of any of them:
 * the folder's descriptor is opened before the first file is written), and lets the
 * kernel write the files back in a few large requests instead of one or more per file
 * (measured: 26 MB in 286 files, 45 ms instead of 95 ms with a write-back hint per file
 * and an fsync each); SHA256SUMS is written before that syncfs, which makes it durable
 * with the rest (no fsync of its own: one cache flush less). Elsewhere, or when syncfs
 * is refused, each file is fsync'd, SHA256SUMS and the folder too. With
 * --force an existing OUT_DIR is first renamed aside and removed after the new one is
 * in place, so nothing foreign survives. Leftovers of runs that were killed are
 * recognised by their name (and a PID that is no longer running) and removed by the
 * next run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* syncfs */
#endif
#include "formats/formats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define TMP_TAG ".jos-settle-tmp-"
#define OLD_TAG ".jos-settle-old-"

typedef struct {
	char *rel;
	char hex[65];
} out_file;

struct fmt_outdir {
	char *path;     /* OUT_DIR as given, without trailing slashes */
	char *tmp;      /* the temporary folder */
	out_file *files;
	size_t nfiles, cap;
	pthread_mutex_t mu;   /* files, nfiles, cap, and the early write-back below:
				 fmt_outdir_write runs in several threads */
	int dirfd;            /* the temporary folder, open from begin to commit (syncfs) */
	size_t unsynced;      /* bytes written since the last early write-back began */
	bool syncing, sync_thread;   /* an early write-back runs; its thread is to be joined */
	int sync_errno;       /* of an early write-back that failed, else 0 */
	pthread_t syncer;
	bool committed;
	char **made;          /* folders made inside the temporary one (mkdirs_for) */
	size_t nmade, madecap;
	char **prepared;      /* files made empty in advance (fmt_outdir_prepare) */
	size_t nprepared, preparedcap;
};

/* Every this many bytes written, a helper thread syncfs's what is there so far (one at
 * a time), so that the disk works while the statements are still being signed and
 * commit waits only for the rest (one syncfs at commit alone: 26 MB in one go after the
 * last statement, ~35 ms; every 8 MiB: 11-24 ms; every MiB: 3-4 ms, the disk keeping up
 * with the statements). */
#define EARLY_SYNC_BYTES ((size_t)1 << 20)

/* Removes a folder tree (only plain files and folders are expected inside). */
static int remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(path) + strlen(e->d_name) + 2;
		char *child = malloc(n);
		if (!child) {
			rc = -1;
			break;
		}
		snprintf(child, n, "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			rc |= remove_tree(child);
		else if (unlink(child) != 0 && errno != ENOENT)
			rc = -1;
		free(child);
	}
	closedir(d);
	if (rmdir(path) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* Splits OUT_DIR into its parent folder and base name (both malloc'd). */
static int split_path(const char *path, char **parent, char **base)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = NULL;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			slash = path + i;
	if (!slash) {
		*parent = strdup(".");
		*base = strndup(path, n);
	} else {
		*parent = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		*base = strndup(slash + 1, n - (size_t)(slash + 1 - path));
	}
	if (!*parent || !*base) {
		free(*parent);
		free(*base);
		*parent = *base = NULL; /* the caller frees them too */
		return JOS_ENOMEM;
	}
	return JOS_OK;
}

int fmt_outdir_check(const char *path, bool force, jos_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return JOS_OK;
		return jos_err_set(err, JOS_EIO, path, 0, "cannot access output folder: %s", strerror(errno));
	}
	if (force)
		return JOS_OK;
	if (!S_ISDIR(st.st_mode))
		return jos_err_set(err, JOS_EUSAGE, path, 0,
				   "output path exists and is not a folder (use --force to replace it)");
	DIR *d = opendir(path);
	if (!d)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot read output folder: %s", strerror(errno));
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	closedir(d);
	if (!empty)
		return jos_err_set(err, JOS_EUSAGE, path, 0,
				   "output folder is not empty (use --force to replace it)");
	return JOS_OK;
}

/* Removes ".BASE.jos-settle-tmp-PID" / "-old-PID" folders of runs no longer running. */
static void remove_leftovers(const char *parent, const char *base)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	size_t bl = strlen(base);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name, *tag;
		if (n[0] != '.' || strncmp(n + 1, base, bl) != 0)
			continue;
		tag = n + 1 + bl;
		if (strncmp(tag, TMP_TAG, strlen(TMP_TAG)) != 0 && strncmp(tag, OLD_TAG, strlen(OLD_TAG)) != 0)
			continue;
		const char *digits = tag + strlen(TMP_TAG); /* both tags have the same length */
		char *end;
		long pid = strtol(digits, &end, 10);
		if (*digits == '\0' || *end != '\0' || pid <= 0)
			continue;
		if (pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
			continue; /* another run is writing it right now */
		char *p = join(parent, n);
		if (p)
			remove_tree(p);
		free(p);
	}
	closedir(d);
}

int fmt_outdir_begin(fmt_outdir **out, const char *path, jos_err *err)
{
	fmt_outdir *o = calloc(1, sizeof *o);
	char *parent = NULL, *base = NULL, name[512];
	int rc = JOS_ENOMEM;

	*out = NULL;
	if (!o)
		goto fail;
	o->dirfd = -1;
	pthread_mutex_init(&o->mu, NULL);
	if (split_path(path, &parent, &base) != JOS_OK)
		goto fail;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || base[0] == '\0') {
		rc = jos_err_set(err, JOS_EUSAGE, path, 0, "output folder must be named (not '.' or '..')");
		goto fail;
	}
	remove_leftovers(parent, base);
	snprintf(name, sizeof name, ".%s%s%ld", base, TMP_TAG, (long)getpid());
	o->tmp = join(parent, name);
	o->path = strdup(path);
	if (!o->tmp || !o->path)
		goto fail;
	remove_tree(o->tmp);
	if (mkdir(o->tmp, 0755) != 0) {
		rc = jos_err_set(err, JOS_EIO, o->tmp, 0, "cannot create temporary output folder: %s",
				 strerror(errno));
		goto fail;
	}
	/* before any file is written: syncfs reports write-back errors since this open */
	o->dirfd = open(o->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	free(base);
	*out = o;
	return JOS_OK;
fail:
	if (rc == JOS_ENOMEM)
		jos_err_set(err, rc, NULL, 0, "out of memory");
	free(parent);
	free(base);
	fmt_outdir_free(o);
	return rc;
}

/* The folders of rel made in the temporary folder; each only once (every statement is
 * in statements/: a mkdir per file failed with EEXIST and took the folder's lock). */
static int mkdirs_for(fmt_outdir *o, const char *rel, jos_err *err)
{
	char buf[4096];
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return JOS_OK;
	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		size_t n = (size_t)(p - rel);
		bool made = false;
		pthread_mutex_lock(&o->mu);
		for (size_t i = 0; i < o->nmade && !made; i++)
			made = strlen(o->made[i]) == n && memcmp(o->made[i], rel, n) == 0;
		pthread_mutex_unlock(&o->mu);
		if (made)
			continue;
		snprintf(buf, sizeof buf, "%s/%.*s", o->tmp, (int)n, rel);
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return jos_err_set(err, JOS_EIO, buf, 0, "cannot create folder: %s", strerror(errno));
		char *d = strndup(rel, n);
		pthread_mutex_lock(&o->mu);
		if (d && jos_grow((void **)&o->made, &o->madecap, o->nmade + 1, sizeof *o->made) == JOS_OK)
			o->made[o->nmade++] = d;
		else
			free(d);   /* made again next time */
		pthread_mutex_unlock(&o->mu);
	}
	return JOS_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Fails (OpenSSL out of memory) rather than let SHA256SUMS hold a wrong sum. */
static int sha256_hex(char hex[65], const char *data, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Writes a file; commit makes it durable. */
static int write_file(fmt_outdir *o, const char *rel, const char *data, size_t len, jos_err *err)
{
	int rc = mkdirs_for(o, rel, err);
	if (rc)
		return rc;
	char *p = join(o->tmp, rel);
	if (!p)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) != 0) {
		rc = jos_err_set(err, JOS_EIO, p, 0, "cannot write: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(p);
		return rc;
	}
	if (close(fd) != 0)
		rc = jos_err_set(err, JOS_EIO, p, 0, "cannot write: %s", strerror(errno));
	free(p);
	return rc;
}

#ifdef __linux__
static void *early_sync(void *arg)
{
	fmt_outdir *o = arg;
	int r = syncfs(o->dirfd), e = errno;
	pthread_mutex_lock(&o->mu);
	if (r != 0 && e != ENOSYS && e != EPERM && o->sync_errno == 0)
		o->sync_errno = e;
	o->syncing = false;
	pthread_mutex_unlock(&o->mu);
	return NULL;
}
#endif

/* Joins the early write-back thread, if any (the caller holds no lock). */
static void join_syncer(fmt_outdir *o)
{
	if (o->sync_thread) {
		pthread_join(o->syncer, NULL);
		o->sync_thread = false;
	}
}

/* fsync of the file rel of the temporary folder. */
static int fsync_file(fmt_outdir *o, const char *rel, jos_err *err)
{
	char *p = join(o->tmp, rel);
	if (!p)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	int fd = open(p, O_RDONLY | O_CLOEXEC), rc = JOS_OK;
	if (fd < 0 || fsync(fd) != 0)
		rc = jos_err_set(err, JOS_EIO, p, 0, "cannot write: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

/* Every file written so far made durable: syncfs of their file system (*fallback false),
 * else an fsync of each (*fallback true: the caller fsyncs what it writes after). */
static int sync_files(fmt_outdir *o, bool *fallback, jos_err *err)
{
	*fallback = false;
	join_syncer(o);
	if (o->sync_errno)   /* that error is reported once, to that syncfs */
		return jos_err_set(err, JOS_EIO, o->tmp, 0, "cannot write: %s",
				   strerror(o->sync_errno));
#ifdef __linux__
	if (o->dirfd >= 0) {
		if (syncfs(o->dirfd) == 0)
			return JOS_OK;
		if (errno != ENOSYS && errno != EPERM)
			return jos_err_set(err, JOS_EIO, o->tmp, 0, "cannot write: %s",
					   strerror(errno));
	}
#endif
	*fallback = true;
	for (size_t i = 0; i < o->nfiles; i++) {
		int rc = fsync_file(o, o->files[i].rel, err);
		if (rc != JOS_OK)
			return rc;
	}
	return JOS_OK;
}

int fmt_outdir_write(fmt_outdir *o, const char *relpath, const char *data, size_t len,
		     jos_err *err)
{
	char hex[65], *rel = strdup(relpath);
	int rc;
	if (!rel)
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	if (sha256_hex(hex, data, len) != 0) {
		free(rel);
		return jos_err_set(err, JOS_ECRYPTO, relpath, 0, "cannot compute its SHA-256");
	}
	if ((rc = write_file(o, relpath, data, len, err)) != JOS_OK) {
		free(rel);
		return rc;
	}
	pthread_mutex_lock(&o->mu);
	if (jos_grow((void **)&o->files, &o->cap, o->nfiles + 1, sizeof *o->files) != JOS_OK) {
		pthread_mutex_unlock(&o->mu);
		free(rel);
		return jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
	}
	o->files[o->nfiles].rel = rel;
	memcpy(o->files[o->nfiles].hex, hex, sizeof hex);
	o->nfiles++;
#ifdef __linux__
	o->unsynced += len;
	if (o->dirfd >= 0 && !o->syncing && o->unsynced >= EARLY_SYNC_BYTES) {
		join_syncer(o);   /* the previous one is done: it cleared syncing */
		o->unsynced = 0;
		o->syncing = true;
		if (pthread_create(&o->syncer, NULL, early_sync, o) == 0)
			o->sync_thread = true;
		else
			o->syncing = false;   /* commit does it all */
	}
#endif
	pthread_mutex_unlock(&o->mu);
	return JOS_OK;
}

void fmt_outdir_prepare(fmt_outdir *o, const char *relpath)
{
	jos_err e;
	char *rel = strdup(relpath);
	pthread_mutex_lock(&o->mu);   /* room first: a file made must be listed */
	int grown = jos_grow((void **)&o->prepared, &o->preparedcap, o->nprepared + 1,
			     sizeof *o->prepared);
	pthread_mutex_unlock(&o->mu);
	if (!rel || grown != JOS_OK || mkdirs_for(o, relpath, &e) != JOS_OK) {
		free(rel);
		return;
	}
	/* O_EXCL: a file its writer made already is left alone */
	char *p = join(o->tmp, relpath);
	int fd = p ? open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	free(p);
	if (fd < 0) {
		free(rel);
		return;
	}
	close(fd);
	pthread_mutex_lock(&o->mu);
	o->prepared[o->nprepared++] = rel;   /* one preparing thread: the room is there */
	pthread_mutex_unlock(&o->mu);
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const out_file *)a)->rel, ((const out_file *)b)->rel);
}

static void fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int fmt_outdir_commit(fmt_outdir *o, jos_err *err)
{
	char *sums = NULL, *old = NULL, *parent = NULL, *base = NULL;
	size_t len = 0, cap = 0;
	int rc;

	qsort(o->files, o->nfiles, sizeof *o->files, file_cmp);
	/* prepared files that were not written (a municipality without a statement) */
	for (size_t i = 0; i < o->nprepared; i++) {
		out_file key = { .rel = o->prepared[i] };
		if (o->nfiles && bsearch(&key, o->files, o->nfiles, sizeof *o->files, file_cmp))
			continue;
		char *p = join(o->tmp, o->prepared[i]);
		if (!p) {
			rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
			goto done;
		}
		if (unlink(p) != 0 && errno != ENOENT) {
			rc = jos_err_set(err, JOS_EIO, p, 0, "cannot remove: %s", strerror(errno));
			free(p);
			goto done;
		}
		free(p);
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		size_t need = len + 64 + 2 + strlen(o->files[i].rel) + 2;
		if (jos_grow((void **)&sums, &cap, need, 1) != JOS_OK) {
			rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
			goto done;
		}
		len += (size_t)snprintf(sums + len, cap - len, "%s  %s\n", o->files[i].hex, o->files[i].rel);
	}
	/* SHA256SUMS written with the others, then all of them and the folders made durable
	 * before the rename: by the one syncfs (it holds the folders' entries too), else an
	 * fsync of each file, SHA256SUMS and the folder. */
	bool fallback;
	if ((rc = write_file(o, "SHA256SUMS", sums ? sums : "", len, err)) != JOS_OK ||
	    (rc = sync_files(o, &fallback, err)) != JOS_OK)
		goto done;
	if (fallback) {
		if ((rc = fsync_file(o, "SHA256SUMS", err)) != JOS_OK)
			goto done;
		fsync_dir(o->tmp);
	}
	if ((rc = split_path(o->path, &parent, &base)) != JOS_OK)
		goto done;
	struct stat st;
	if (lstat(o->path, &st) == 0) { /* --force: move the old one aside first */
		char name[512];
		snprintf(name, sizeof name, ".%s%s%ld", base, OLD_TAG, (long)getpid());
		if (!(old = join(parent, name))) {
			rc = jos_err_set(err, JOS_ENOMEM, NULL, 0, "out of memory");
			goto done;
		}
		remove_tree(old);
		if (rename(o->path, old) != 0) {
			rc = jos_err_set(err, JOS_EIO, o->path, 0, "cannot replace output folder: %s",
					 strerror(errno));
			goto done;
		}
	}
	if (rename(o->tmp, o->path) != 0) {
		rc = jos_err_set(err, JOS_EIO, o->path, 0, "cannot create output folder: %s", strerror(errno));
		if (old)
			rename(old, o->path); /* put the old one back */
		goto done;
	}
	o->committed = true;
	fsync_dir(parent);
	if (old) {
		if (S_ISDIR(st.st_mode))
			remove_tree(old);
		else
			unlink(old);
	}
	rc = JOS_OK;
done:
	free(sums);
	free(old);
	free(parent);
	free(base);
	return rc;
}

void fmt_outdir_free(fmt_outdir *o)
{
	if (!o)
		return;
	join_syncer(o);
	if (o->dirfd >= 0)
		close(o->dirfd);
	if (!o->committed && o->tmp)
		remove_tree(o->tmp);
	for (size_t i = 0; i < o->nfiles; i++)
		free(o->files[i].rel);
	free(o->files);
	for (size_t i = 0; i < o->nmade; i++)
		free(o->made[i]);
	free(o->made);
	for (size_t i = 0; i < o->nprepared; i++)
		free(o->prepared[i]);
	free(o->prepared);
	free(o->tmp);
	free(o->path);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

int fmt_read_file(char **out, size_t *outlen, const char *path, size_t max, jos_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	*out = NULL;
	if (fd < 0)
		return jos_err_set(err, JOS_EIO, path, 0, "cannot open: %s", strerror(errno));
	for (;;) {
		if (jos_grow((void **)&buf, &cap, len + 4097, 1) != JOS_OK) {
			close(fd);
			free(buf);
			return jos_err_set(err, JOS_ENOMEM, path, 0, "out of memory");
		}
		ssize_t r = read(fd, buf + len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(buf);
			return jos_err_set(err, JOS_EIO, path, 0, "cannot read: %s", strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			close(fd);
			free(buf);
			return jos_err_set(err, JOS_EIO, path, 0, "file is larger than %zu bytes", max);
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return JOS_OK;
}
